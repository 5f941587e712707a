/* cgi.h -- zonedrop.cgi's request handler (PROTOCOL.md sections 1-5) */
#ifndef ZONEDROP_CGI_H
#define ZONEDROP_CGI_H

#include <stdio.h>
#include "zonedrop/config.h"

/* The CGI/1.1 variables the handler uses. Any may be NULL (absent). */
struct cgi_request {
	const char *method;          /* REQUEST_METHOD */
	const char *script_name;     /* SCRIPT_NAME */
	const char *path_info;       /* PATH_INFO */
	const char *request_uri;     /* REQUEST_URI (fallback for the endpoint path) */
	const char *query;           /* QUERY_STRING, exactly as received */
	const char *content_length;  /* CONTENT_LENGTH */
	const char *content_type;    /* CONTENT_TYPE (never decides how a body is read) */
	const char *authorization;   /* HTTP_AUTHORIZATION */
	const char *remote_addr;     /* REMOTE_ADDR (Client-Ip; never X-Forwarded-For) */
};

/* Fill req from the process environment (getenv; pointers borrowed). */
void cgi_request_from_env(struct cgi_request *req);

/* Serve one request: read at most Content-Length bytes of body from in,
 * write one CGI answer ("Status:" header, Content-Type text/plain;
 * charset=utf-8, then the DA-API body) to out, and log one line about the
 * outcome. Accepted pushes and deletes are in spool new/ before "error=0"
 * is written. Returns the HTTP status sent, or ZD_EIO when out could not be
 * written. */
int cgi_serve(const struct config *cfg, const struct cgi_request *req, FILE *in, FILE *out);

/* cgi_serve() with the request taken from the environment. */
int cgi_handle(const struct config *cfg, FILE *in, FILE *out);

/* Write a complete error answer: status, "error=1&text=<url-encoded text>".
 * For the main when no config could be loaded. 0 or ZD_EIO. */
int cgi_answer_error(FILE *out, int status, const char *text);

/* Endpoints served by other modules, called by cgi_serve() once the client
 * is authenticated for them. Each either writes its complete answer to out
 * (a->written = 1) and returns the status sent, or writes nothing and
 * returns an error status >= 400: cgi_serve() then answers
 * "error=1&text=<a->text>". a->text is also the log line's text. */
struct cgi_answer {
	int written;
	char text[512];
};
/* /internal/zones[?since=T | ?domain=D] for peers.users (peer_export.c) */
int peer_export_serve(const struct config *cfg, const struct cgi_request *req, FILE *out,
                      struct cgi_answer *a);
/* /status (metrics = 0) and /metrics (metrics = 1) for receiver.users (status.c) */
int status_serve(const struct config *cfg, const struct cgi_request *req, int metrics, FILE *out,
                 struct cgi_answer *a);

#endif
