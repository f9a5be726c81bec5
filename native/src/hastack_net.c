/*
 * hastack_net: the few socket calls Node.js does not offer, as a Node-API addon.
 *
 *  - raw IPv4 sockets for one IP protocol (112 = VRRP, 1 = ICMP): bound to an
 *    interface, multicast membership, TTL/TOS, a chosen source address per send
 *    (IP_PKTINFO); received datagrams (IP header included) are handed to a JS
 *    callback on the event loop, woken by a reader thread, so nothing blocks it;
 *  - AF_PACKET send of a complete Ethernet frame (gratuitous ARP);
 *  - interface facts through ioctl (index, MAC, flags, primary IPv4 address, MTU);
 *  - netlink sockets (NETLINK_ROUTE: address changes with lifetimes and their acks),
 *    non-blocking like the raw sockets; messages are built and parsed in TypeScript.
 *
 * Everything here is a thin system-call wrapper: packet formats live in TypeScript.
 * Errors are thrown as JS Errors whose `code` is the errno name (EPERM, ENODEV...).
 *
 * Node-API only (no libuv calls), so the addon's ABI is Node-API's alone. Node-API
 * cannot watch a file descriptor, so each socket has a small reader thread that
 * waits in poll() and wakes the event loop through a thread-safe function; the
 * loop then reads without blocking, as a poll watcher's callback would, and lets
 * the thread wait again. The thread never reads, so netlinkRead() stays safe.
 */
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>

/* From <linux/icmp.h>, which clashes with <net/if.h>. */
#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif
#define ICMP_ECHOREPLY_TYPE 0
struct icmp_type_filter {
  uint32_t data;
};

#define MAX_DATAGRAM 65536
/* Datagrams handled per readiness callback before yielding back to the loop. */
#define MAX_READS_PER_WAKEUP 64

#define CALL(env, call)                                                        \
  do {                                                                         \
    if ((call) != napi_ok) {                                                   \
      throw_last(env);                                                         \
      return NULL;                                                             \
    }                                                                          \
  } while (0)

typedef struct raw_sock {
  int fd;
  int wake_fd;        /* eventfd: tells the reader thread to end */
  int protocol;
  int closed;         /* fd closed, reader ended (main thread only) */
  int stopping;       /* atomic: the reader thread must end */
  int reader_running; /* the reader thread exists and is not joined */
  int tsfn_done;      /* the thread-safe function is finalized */
  int finalized;      /* the JS external is gone */
  pthread_t reader;
  sem_t rearm;        /* posted once the loop has read what poll() saw */
  napi_threadsafe_function tsfn;
  napi_env env;
  napi_async_context async;
  unsigned char *buffer;
} raw_sock;

static void throw_last(napi_env env) {
  const napi_extended_error_info *info = NULL;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  napi_get_last_error_info(env, &info);
  napi_throw_error(env, "HASTACK_NATIVE_ERROR",
                   info && info->error_message ? info->error_message : "Node-API call failed");
}

static const char *errno_name(int err) {
  const char *name = strerrorname_np(err);
  return name ? name : "EUNKNOWN";
}

/* Throws Error(`${what}: ${strerror}`) with code = errno name; returns NULL for `return`. */
static napi_value throw_errno(napi_env env, const char *what, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, errno_name(err), message);
  return NULL;
}

static int get_string(napi_env env, napi_value value, char *out, size_t size) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, value, out, size, &len) != napi_ok) return -1;
  return len >= size - 1 ? -1 : 0;
}

static int is_nullish(napi_env env, napi_value value) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return 1;
  return type == napi_undefined || type == napi_null;
}

static int get_named_int(napi_env env, napi_value obj, const char *key, int32_t *out) {
  bool has = false;
  napi_value v;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || is_nullish(env, v)) return 0;
  if (napi_get_value_int32(env, v, out) != napi_ok) return -1;
  return 1;
}

static int get_named_bool(napi_env env, napi_value obj, const char *key, bool *out) {
  bool has = false;
  napi_value v;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || is_nullish(env, v)) return 0;
  if (napi_get_value_bool(env, v, out) != napi_ok) return -1;
  return 1;
}

static int get_named_string(napi_env env, napi_value obj, const char *key, char *out, size_t size) {
  bool has = false;
  napi_value v;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || is_nullish(env, v)) return 0;
  if (get_string(env, v, out, size) != 0) return -1;
  return 1;
}

static int parse_ipv4(napi_env env, napi_value value, struct in_addr *out) {
  char text[64];
  if (get_string(env, value, text, sizeof text) != 0) return -1;
  return inet_pton(AF_INET, text, out) == 1 ? 0 : -1;
}

/* ---- raw socket lifetime ---------------------------------------------- */

static void free_if_done(raw_sock *s) {
  if (s->tsfn_done && s->finalized) {
    sem_destroy(&s->rearm);
    free(s->buffer);
    free(s);
  }
}

static void close_sock(raw_sock *s);

/* Environment teardown (process exit, worker end) closes sockets JS left open. */
static void close_on_teardown(void *arg) { close_sock((raw_sock *)arg); }

/* Ends and joins the reader thread; it is never longer than one poll() wake-up away. */
static void stop_reader(raw_sock *s) {
  if (!s->reader_running) return;
  s->reader_running = 0;
  __atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
  uint64_t one = 1;
  if (write(s->wake_fd, &one, sizeof one) < 0) { /* an eventfd write fails only on overflow */ }
  sem_post(&s->rearm);
  pthread_join(s->reader, NULL);
}

static void on_tsfn_finalized(napi_env env, void *data, void *hint) {
  raw_sock *s = (raw_sock *)data;
  stop_reader(s); /* only teardown finalizes before close_sock: the thread must not call it again */
  s->tsfn = NULL;
  s->tsfn_done = 1;
  free_if_done(s);
}

/* Stops the reader, closes the fd, lets the callback go. Safe to call twice. */
static void close_sock(raw_sock *s) {
  if (s->closed) return;
  s->closed = 1;
  stop_reader(s);
  close(s->fd);
  s->fd = -1;
  if (s->wake_fd >= 0) close(s->wake_fd);
  s->wake_fd = -1;
  if (s->tsfn) napi_release_threadsafe_function(s->tsfn, napi_tsfn_abort);
  if (s->async) {
    napi_async_destroy(s->env, s->async);
    s->async = NULL;
  }
  napi_remove_env_cleanup_hook(s->env, close_on_teardown, s);
}

static void finalize_sock(napi_env env, void *data, void *hint) {
  raw_sock *s = (raw_sock *)data;
  close_sock(s);
  s->finalized = 1;
  free_if_done(s);
}

static void deliver(raw_sock *s, napi_value cb, napi_value err, napi_value packet) {
  napi_env env = s->env;
  napi_value global, argv[2];
  if (s->closed) return;
  napi_get_global(env, &global);
  argv[0] = err;
  argv[1] = packet;
  napi_status status = napi_make_callback(env, s->async, global, cb, 2, argv, NULL);
  if (status == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
}

static void deliver_error(raw_sock *s, napi_value cb, int err) {
  napi_value null_value, message;
  napi_get_null(s->env, &null_value);
  napi_create_string_utf8(s->env, strerror(err), NAPI_AUTO_LENGTH, &message);
  deliver(s, cb, message, null_value);
}

/*
 * On the event loop, after the reader saw the socket readable (data == 0) or
 * poll() failed (data = errno): reads what is queued without blocking, then lets
 * the reader wait again.
 */
static void on_readable(napi_env env, napi_value cb, void *context, void *data) {
  raw_sock *s = (raw_sock *)context;
  int poll_error = (int)(intptr_t)data;
  napi_handle_scope scope;
  if (env == NULL || s->closed) return;
  napi_open_handle_scope(env, &scope);
  if (poll_error != 0) {
    deliver_error(s, cb, poll_error);
  } else {
    for (int i = 0; i < MAX_READS_PER_WAKEUP && !s->closed; i++) {
      ssize_t n = recv(s->fd, s->buffer, MAX_DATAGRAM, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        deliver_error(s, cb, errno);
        break;
      }
      napi_value null_value, packet;
      void *copy;
      napi_get_null(env, &null_value);
      if (napi_create_buffer_copy(env, (size_t)n, s->buffer, &copy, &packet) != napi_ok) break;
      deliver(s, cb, null_value, packet);
    }
  }
  napi_close_handle_scope(env, scope);
  /* More than MAX_READS_PER_WAKEUP queued: poll() sees it at once and wakes us again. */
  if (!s->closed && poll_error == 0) sem_post(&s->rearm);
}

/* The reader thread: waits for the socket to be readable, wakes the loop, waits for it to read. */
static void *reader_main(void *arg) {
  raw_sock *s = (raw_sock *)arg;
  struct pollfd fds[2] = {{.fd = s->fd, .events = POLLIN}, {.fd = s->wake_fd, .events = POLLIN}};
  while (!__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE)) {
    int n = poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      napi_call_threadsafe_function(s->tsfn, (void *)(intptr_t)errno, napi_tsfn_nonblocking);
      break;
    }
    if (fds[1].revents != 0) break;
    if (fds[0].revents == 0) continue;
    if (napi_call_threadsafe_function(s->tsfn, NULL, napi_tsfn_nonblocking) != napi_ok) break;
    while (sem_wait(&s->rearm) != 0 && errno == EINTR) {
    }
  }
  return NULL;
}

static raw_sock *unwrap(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "expected a raw socket handle");
    return NULL;
  }
  raw_sock *s = (raw_sock *)data;
  if (s->closed) {
    napi_throw_error(env, "EBADF", "the raw socket is closed");
    return NULL;
  }
  return s;
}

/* Wraps an open non-blocking fd in a raw_sock with its reader thread; returns the JS handle (NULL after throwing). */
static napi_value watch_socket(napi_env env, int fd, int protocol, napi_value callback, const char *resource) {
  napi_value result, resource_name;
  raw_sock *s = calloc(1, sizeof *s);
  if (s == NULL || (s->buffer = malloc(MAX_DATAGRAM)) == NULL) {
    free(s);
    close(fd);
    return throw_errno(env, resource, ENOMEM);
  }
  s->fd = fd;
  s->protocol = protocol;
  s->env = env;
  s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s->wake_fd < 0 || sem_init(&s->rearm, 0, 0) != 0) {
    int err = errno;
    if (s->wake_fd >= 0) close(s->wake_fd);
    close(fd);
    free(s->buffer);
    free(s);
    return throw_errno(env, "eventfd", err);
  }
  if (napi_create_string_utf8(env, resource, NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_create_threadsafe_function(env, callback, NULL, resource_name, 0, 1, s, on_tsfn_finalized, s,
                                      on_readable, &s->tsfn) != napi_ok) {
    close(s->wake_fd);
    close(fd);
    sem_destroy(&s->rearm);
    free(s->buffer);
    free(s);
    napi_throw_error(env, "HASTACK_NATIVE_ERROR", "cannot watch the socket (thread-safe function)");
    return NULL;
  }
  /* From here on close_sock() owns cleanup and on_tsfn_finalized() frees. */
  napi_async_init(env, NULL, resource_name, &s->async);
  /* A watcher alone does not keep the process alive: owners hold timers. */
  napi_unref_threadsafe_function(env, s->tsfn);
  /* Added after the thread-safe function, so teardown runs this hook before that function's own. */
  napi_add_env_cleanup_hook(env, close_on_teardown, s);
  int err = pthread_create(&s->reader, NULL, reader_main, s);
  if (err != 0) {
    close_sock(s);
    s->finalized = 1;
    return throw_errno(env, "pthread_create", err);
  }
  s->reader_running = 1;
  if (napi_create_external(env, s, finalize_sock, NULL, &result) != napi_ok) {
    close_sock(s);
    s->finalized = 1;
    throw_last(env);
    return NULL;
  }
  return result;
}

/* rawOpen(protocol, { ifname, ttl, tos, multicastLoop, icmpEchoReplyOnly }, onPacket(err, buf)) */
static napi_value raw_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t protocol = 0, ttl = 0, tos = -1;
  bool loop = false, echo_only = false;
  char ifname[IF_NAMESIZE + 1] = "";
  napi_valuetype cb_type;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || napi_get_value_int32(env, argv[0], &protocol) != napi_ok || protocol < 1 ||
      protocol > 255) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "rawOpen(protocol 1..255, options, callback)");
    return NULL;
  }
  CALL(env, napi_typeof(env, argv[2], &cb_type));
  if (cb_type != napi_function) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "rawOpen: callback must be a function");
    return NULL;
  }
  if (get_named_string(env, argv[1], "ifname", ifname, sizeof ifname) < 0 ||
      get_named_int(env, argv[1], "ttl", &ttl) < 0 || get_named_int(env, argv[1], "tos", &tos) < 0 ||
      get_named_bool(env, argv[1], "multicastLoop", &loop) < 0 ||
      get_named_bool(env, argv[1], "icmpEchoReplyOnly", &echo_only) < 0) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "rawOpen: invalid options");
    return NULL;
  }

  int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return throw_errno(env, "socket(AF_INET, SOCK_RAW)", errno);
  if (ifname[0] != '\0' &&
      setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "setsockopt(SO_BINDTODEVICE)", err);
  }
  if (ttl > 0) {
    int v = ttl;
    if (setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof v) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &v, sizeof v) < 0) {
      int err = errno;
      close(fd);
      return throw_errno(env, "setsockopt(IP_TTL)", err);
    }
  }
  if (tos >= 0) {
    int v = tos;
    if (setsockopt(fd, IPPROTO_IP, IP_TOS, &v, sizeof v) < 0) {
      int err = errno;
      close(fd);
      return throw_errno(env, "setsockopt(IP_TOS)", err);
    }
  }
  {
    unsigned char v = loop ? 1 : 0;
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &v, sizeof v);
  }
  if (echo_only && protocol == IPPROTO_ICMP) {
    struct icmp_type_filter filter = {.data = ~(1U << ICMP_ECHOREPLY_TYPE)};
    setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof filter);
  }

  return watch_socket(env, fd, protocol, argv[2], "hastack:rawSocket");
}

/* rawJoin(handle, group, ifname): IP_ADD_MEMBERSHIP and IP_MULTICAST_IF on that interface. */
static napi_value raw_join(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char ifname[IF_NAMESIZE + 1];
  struct ip_mreqn mreq;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "rawJoin(handle, group, ifname)");
    return NULL;
  }
  raw_sock *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  memset(&mreq, 0, sizeof mreq);
  if (parse_ipv4(env, argv[1], &mreq.imr_multiaddr) != 0 ||
      get_string(env, argv[2], ifname, sizeof ifname) != 0) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "rawJoin: invalid group or interface");
    return NULL;
  }
  mreq.imr_ifindex = (int)if_nametoindex(ifname);
  if (mreq.imr_ifindex == 0) return throw_errno(env, ifname, errno);
  if (setsockopt(s->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0 && errno != EADDRINUSE)
    return throw_errno(env, "setsockopt(IP_ADD_MEMBERSHIP)", errno);
  if (setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq) < 0)
    return throw_errno(env, "setsockopt(IP_MULTICAST_IF)", errno);
  return NULL;
}

/* rawSend(handle, payload, dst, src?) → bytes sent. The kernel builds the IP header. */
static napi_value raw_send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result;
  void *data;
  size_t len;
  struct sockaddr_in dst;
  struct in_addr src;
  int have_src = 0;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "rawSend(handle, payload, dst, src?)");
    return NULL;
  }
  raw_sock *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "rawSend: payload must be a Buffer");
    return NULL;
  }
  memset(&dst, 0, sizeof dst);
  dst.sin_family = AF_INET;
  if (parse_ipv4(env, argv[2], &dst.sin_addr) != 0) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "rawSend: invalid destination address");
    return NULL;
  }
  if (argc > 3 && !is_nullish(env, argv[3])) {
    if (parse_ipv4(env, argv[3], &src) != 0) {
      napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "rawSend: invalid source address");
      return NULL;
    }
    have_src = 1;
  }
  struct iovec iov = {.iov_base = data, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
    struct cmsghdr align;
  } control;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = &dst;
  msg.msg_namelen = sizeof dst;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (have_src) {
    memset(&control, 0, sizeof control);
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = IPPROTO_IP;
    cmsg->cmsg_type = IP_PKTINFO;
    cmsg->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
    struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(cmsg);
    pi->ipi_spec_dst = src;
  }
  ssize_t n = sendmsg(s->fd, &msg, MSG_DONTWAIT);
  if (n < 0) return throw_errno(env, "sendmsg", errno);
  CALL(env, napi_create_int32(env, (int32_t)n, &result));
  return result;
}

static napi_value raw_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "rawClose(handle)");
    return NULL;
  }
  close_sock((raw_sock *)data);
  return NULL;
}

/* ---- netlink ------------------------------------------------------------ */

/*
 * netlinkOpen(protocol, groups, onMessage(err, buf)): a non-blocking netlink socket
 * bound with a kernel-assigned port id. Extended acks (the kernel's error text) and
 * capped acks (an error does not echo the whole request) are asked for where the
 * kernel knows them. Datagrams arrive through the same reader-thread path as raw sockets;
 * netlinkRead() drains what is queued without waiting.
 */
static napi_value netlink_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t protocol = -1, groups = 0;
  napi_valuetype cb_type;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || napi_get_value_int32(env, argv[0], &protocol) != napi_ok || protocol < 0 ||
      protocol > 31 || napi_get_value_int32(env, argv[1], &groups) != napi_ok) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "netlinkOpen(protocol 0..31, groups, callback)");
    return NULL;
  }
  CALL(env, napi_typeof(env, argv[2], &cb_type));
  if (cb_type != napi_function) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "netlinkOpen: callback must be a function");
    return NULL;
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return throw_errno(env, "socket(AF_NETLINK)", errno);
  struct sockaddr_nl local;
  memset(&local, 0, sizeof local);
  local.nl_family = AF_NETLINK;
  local.nl_groups = (uint32_t)groups;
  if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind(AF_NETLINK)", err);
  }
  int one = 1;
  /* Older kernels lack these: the acks then carry no text / the whole request. */
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  return watch_socket(env, fd, protocol, argv[2], "hastack:netlinkSocket");
}

/* netlinkSend(handle, messages) → bytes sent: one datagram to the kernel (it may hold several messages). */
static napi_value netlink_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  void *data;
  size_t len;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "netlinkSend(handle, messages)");
    return NULL;
  }
  raw_sock *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok || len < 16) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "netlinkSend: messages must be a Buffer of at least 16 bytes");
    return NULL;
  }
  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  /* The kernel handles a request inside this call, so its ack is queued when it returns. */
  ssize_t n = sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&kernel, sizeof kernel);
  if (n < 0) return throw_errno(env, "sendto(AF_NETLINK)", errno);
  CALL(env, napi_create_int32(env, (int32_t)n, &result));
  return result;
}

/* netlinkRead(handle) → Buffer[]: the datagrams queued right now (never waits). */
static napi_value netlink_read(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "netlinkRead(handle)");
    return NULL;
  }
  raw_sock *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  CALL(env, napi_create_array(env, &result));
  for (uint32_t i = 0; i < MAX_READS_PER_WAKEUP; i++) {
    ssize_t n = recv(s->fd, s->buffer, MAX_DATAGRAM, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      /* ENOBUFS: the kernel dropped messages for us; the caller's acks time out. */
      return throw_errno(env, "recv(AF_NETLINK)", errno);
    }
    napi_value packet;
    void *copy;
    CALL(env, napi_create_buffer_copy(env, (size_t)n, s->buffer, &copy, &packet));
    CALL(env, napi_set_element(env, result, i, packet));
  }
  return result;
}

/*
 * One send-only AF_PACKET socket for the process (protocol 0: no receive hook, so
 * the kernel queues nothing to it). Opening and closing one per frame would cost an
 * RCU grace period on every close (packet_release → synchronize_net: 8–20 ms
 * measured), blocking the event loop for each gratuitous ARP.
 */
static int packet_fd = -1;

static int packet_socket(void) {
  int fd = __atomic_load_n(&packet_fd, __ATOMIC_ACQUIRE);
  if (fd >= 0) return fd;
  fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int expected = -1;
  if (!__atomic_compare_exchange_n(&packet_fd, &expected, fd, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    close(fd); /* another thread won */
    return expected;
  }
  return fd;
}

/* packetSend(ifname, frame): one Ethernet frame out of the interface (destination MAC = frame[0..6]). */
static napi_value packet_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  char ifname[IF_NAMESIZE + 1];
  unsigned char *frame;
  size_t len;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || get_string(env, argv[0], ifname, sizeof ifname) != 0 ||
      napi_get_buffer_info(env, argv[1], (void **)&frame, &len) != napi_ok || len < 14) {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "packetSend(ifname, frame of at least 14 bytes)");
    return NULL;
  }
  unsigned int index = if_nametoindex(ifname);
  if (index == 0) return throw_errno(env, ifname, errno);
  uint16_t ethertype = (uint16_t)((frame[12] << 8) | frame[13]);
  int fd = packet_socket();
  if (fd < 0) return throw_errno(env, "socket(AF_PACKET)", errno);
  struct sockaddr_ll addr;
  memset(&addr, 0, sizeof addr);
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ethertype);
  addr.sll_ifindex = (int)index;
  addr.sll_halen = 6;
  memcpy(addr.sll_addr, frame, 6);
  ssize_t n = sendto(fd, frame, len, MSG_DONTWAIT, (struct sockaddr *)&addr, sizeof addr);
  if (n < 0) return throw_errno(env, "sendto(AF_PACKET)", errno);
  CALL(env, napi_create_int32(env, (int32_t)n, &result));
  return result;
}

static void set_int(napi_env env, napi_value obj, const char *key, int64_t value) {
  napi_value v;
  napi_create_int64(env, value, &v);
  napi_set_named_property(env, obj, key, v);
}

static void set_bool(napi_env env, napi_value obj, const char *key, int value) {
  napi_value v;
  napi_get_boolean(env, value != 0, &v);
  napi_set_named_property(env, obj, key, v);
}

static void set_string(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  if (value == NULL) napi_get_null(env, &v);
  else napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
}

/* interfaceInfo(ifname) → { index, mac, up, running, ipv4, mtu } or null when it does not exist. */
static napi_value interface_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  struct ifreq ifr;
  char ifname[IF_NAMESIZE + 1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || get_string(env, argv[0], ifname, sizeof ifname) != 0 || ifname[0] == '\0') {
    napi_throw_type_error(env, "HASTACK_NATIVE_ARG", "interfaceInfo(ifname)");
    return NULL;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_INET, SOCK_DGRAM)", errno);
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1); /* get_string bounded it to 15 chars */
  if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
    int err = errno;
    close(fd);
    if (err == ENODEV) {
      napi_get_null(env, &result);
      return result;
    }
    return throw_errno(env, "ioctl(SIOCGIFINDEX)", err);
  }
  CALL(env, napi_create_object(env, &result));
  set_int(env, result, "index", ifr.ifr_ifindex);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
    set_bool(env, result, "up", ifr.ifr_flags & IFF_UP);
    set_bool(env, result, "running", ifr.ifr_flags & IFF_RUNNING);
  }
  if (ioctl(fd, SIOCGIFMTU, &ifr) == 0) set_int(env, result, "mtu", ifr.ifr_mtu);
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0) {
    char mac[18];
    const unsigned char *m = (const unsigned char *)ifr.ifr_hwaddr.sa_data;
    snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    set_string(env, result, "mac", mac);
  }
  ifr.ifr_addr.sa_family = AF_INET;
  if (ioctl(fd, SIOCGIFADDR, &ifr) == 0) {
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, text, sizeof text);
    set_string(env, result, "ipv4", text);
  } else {
    set_string(env, result, "ipv4", NULL);
  }
  close(fd);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"rawOpen", NULL, raw_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rawJoin", NULL, raw_join, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rawSend", NULL, raw_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rawClose", NULL, raw_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetSend", NULL, packet_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"interfaceInfo", NULL, interface_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"netlinkOpen", NULL, netlink_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"netlinkSend", NULL, netlink_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"netlinkRead", NULL, netlink_read, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
