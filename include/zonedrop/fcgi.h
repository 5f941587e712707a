/* fcgi.h -- zonedrop.cgi as a FastCGI responder (libfcgi)
 *
 * A web server that spawns zonedrop.cgi as a FastCGI application (lighttpd
 * mod_fastcgi "bin-path", spawn-fcgi for nginx, a systemd socket unit)
 * hands it a listening socket on fd 0. The same binary then serves request
 * after request with the code path of a CGI run (cgi_serve()), so the
 * process start (about 5 ms of the 10 ms a CGI request costs on a small VM)
 * is paid once. Nothing else changes: every push is still in new/ before
 * "error=0" is written, and the process holds no state between requests but
 * the loaded config. */
#ifndef ZONEDROP_FCGI_H
#define ZONEDROP_FCGI_H

#include "zonedrop/err.h"

/* 1 when fd 0 is a FastCGI listening socket, 0 for a plain CGI run. */
int fcgi_is_fastcgi(void);

/* Serve FastCGI requests on fd 0 until the web server closes the socket or
 * the process gets SIGTERM/SIGINT/SIGHUP between requests. The config at
 * path is loaded before each request when the file changed (inode, size,
 * mtime, ctime), so a new password or backend takes effect at once; while it
 * does not load, requests get 500 and the error is logged. max_requests > 0:
 * return after that many requests (the web server starts a new process).
 * Returns 0, or ZD_EIO when the socket fails. */
int fcgi_serve_loop(const char *path, unsigned long max_requests, struct zd_err *err);

#endif
