/*
 * Byte classes of RFC 9110/9112 as lookup tables, so validating a field is one
 * array read per byte (no regex, no allocation).
 */

function table(accept: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = accept(c) ? 1 : 0;
  return t;
}

const TCHAR_SYMBOLS = "!#$%&'*+-.^_`|~";

/** tchar (RFC 9110 §5.6.2): field names, methods, transfer codings. */
export const TCHAR = table(
  (c) =>
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    TCHAR_SYMBOLS.includes(String.fromCharCode(c)),
);

/** field-vchar, SP and HTAB (RFC 9110 §5.5): everything a field value may hold. NUL, CR, LF and other CTLs are not. */
export const FIELD_VALUE_CHAR = table(
  (c) => c === 0x09 || c === 0x20 || (c >= 0x21 && c <= 0x7e) || c >= 0x80,
);

/** Bytes of a request-target: visible ASCII only (no SP, CTL, DEL or non-ASCII). */
export const TARGET_CHAR = table((c) => c >= 0x21 && c <= 0x7e);

/** Host header / authority: reg-name, IP literals and a port. */
export const HOST_CHAR = table(
  (c) =>
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    "-._~!$&'()*+,;=:%[]".includes(String.fromCharCode(c)),
);

/** Hex digit value, or 255. */
export const HEX_VALUE = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let c = 0; c < 10; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
})();
