/*
 * The client side of an exchange, as the exchange sees it: an HTTP/1.1
 * connection (client-connection.ts) or an HTTP/2 stream (h2-stream.ts). The
 * exchange hands over the response in pieces; the downstream frames them for its
 * protocol, buffers for slow clients and reports back through the exchange's
 * resumeUpstream()/downstreamDone() methods.
 */

/** A response head as the exchange passes it on: the downstream filters and frames it for its protocol. */
export interface OutgoingHead {
  status: number;
  reason: string;
  /** Flat [name, value...] (lowercased names) as received or generated; hop-by-hop fields still in. */
  headers: readonly string[];
  /** Lowercased Connection tokens of the upstream response (fields they name are dropped). */
  connectionTokens: readonly string[];
  /** Content-Length to declare, -1 when unknown (then the body is chunked, or close-delimited for HTTP/1.0). */
  contentLength: number;
  /** A body follows (false for HEAD, 204, 304 and local answers without one). */
  hasBody: boolean;
  /** 101: the protocol to switch to, else ''. */
  upgrade: string;
  /** Apply the route's response header rules and Via (not for hastack's own error answers). */
  proxied: boolean;
}

export interface Downstream {
  readonly kind: 'h1' | 'h2';
  /** Sends the head; the body follows through sendBody/sendEnd. */
  sendHead(head: OutgoingHead): void;
  /**
   * Body bytes. `pooled`: the bytes live in a reusable read buffer that the caller
   * reuses once this returns, so they must be written at once or copied.
   */
  sendBody(buf: Buffer, start: number, end: number, pooled: boolean): void;
  /** The body is complete. */
  sendEnd(): void;
  /** The response cannot be completed: cut the client connection (or reset the stream). */
  abort(): void;
  /** End of one upstream read: write what was gathered (the head waits to go out with the first body bytes). */
  flush(): void;
  /** Tell the client to go on sending its body (Expect: 100-continue). */
  sendContinue(): void;
  /** The upstream can take request body bytes again. */
  resumeRequestBody(): void;
  /** Bytes queued for the client and not yet handed to the kernel (memory and temp file). */
  readonly queuedBytes: number;
}
