/* test_cgi.c -- the request handler end to end: answers, spool items, nothing left on errors */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "zonedrop/auth.h"
#include "zonedrop/cgi.h"
#include "zonedrop/config.h"
#include "zonedrop/log.h"
#include "zonedrop/spool.h"
#include "zonedrop/util.h"

#define AUTH_OK "Basic ZGE6cHc="          /* da:pw */
#define AUTH_BAD "Basic ZGE6cHg="         /* da:px */
#define AUTH_PEER "Basic cGVlcjpwcA=="    /* peer:pp */
#define ZONE "$TTL 300\n@ IN SOA ns1.example.org. hostmaster ( 2026010101 3600 600 86400 300 )\n" \
             "@ IN NS ns1.example.org.\nwww IN A 192.0.2.1\n"

/* a literal body and its length */
#define FORM(s) (s), strlen(s)

static char root[64], spool[128], state[128];
static char answer[65536];

/* One request; the answer (headers and body) lands in answer[]. */
static int serve(const struct config *cfg, const char *method, const char *path,
                 const char *query, const char *auth, const char *body, size_t bodylen,
                 const char *cl)
{
	struct cgi_request req;
	char clbuf[32], *out = NULL;
	size_t outlen = 0;
	FILE *in, *o;
	int status;

	memset(&req, 0, sizeof req);
	req.method = method;
	req.script_name = path;
	req.query = query;
	req.authorization = auth;
	req.remote_addr = "192.0.2.9";
	if (cl == NULL && body != NULL) {
		snprintf(clbuf, sizeof clbuf, "%zu", bodylen);
		cl = clbuf;
	}
	req.content_length = cl;
	in = body != NULL && bodylen > 0 ? fmemopen((void *)body, bodylen, "r")
	                                 : fopen("/dev/null", "r");
	o = open_memstream(&out, &outlen);
	status = cgi_serve(cfg, &req, in, o);
	fclose(o);
	fclose(in);
	snprintf(answer, sizeof answer, "%s", out ? out : "");
	free(out);
	return status;
}

static const char *body_of(void)
{
	const char *b = strstr(answer, "\r\n\r\n");

	return b ? b + 4 : "";
}

static size_t count(const char *sub)
{
	char dir[256];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/%s", spool, sub);
	d = opendir(dir);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* read the only item in new/ and remove it; NULL when there is not exactly one */
static char *take_item(void)
{
	char dir[256], path[512], *buf = NULL;
	struct dirent *de;
	struct zd_err err;
	size_t len;
	DIR *d;

	if (count("new") != 1)
		return NULL;
	snprintf(dir, sizeof dir, "%s/new", spool);
	d = opendir(dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (file_read_all(path, 0, &buf, &len, &err) < 0)
			buf = NULL;
		unlink(path);
	}
	closedir(d);
	return buf;
}

static void clear_new(void)
{
	char dir[256], path[512];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/new", spool);
	d = opendir(dir);
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
}

/* an error answer: status, error=1 with a text, and nothing spooled */
static void refused(int status, int want, const char *what)
{
	is_int(status, want, "%s: %d", what, want);
	ok(strncmp(body_of(), "error=1&text=", 13) == 0 && strlen(body_of()) > 13,
	   "  error=1 with a text: %s", body_of());
	ok(count("new") == 0 && count("tmp") == 0, "  nothing in new/ or tmp/");
	clear_new();
}

int main(void)
{
	struct config cfg;
	struct config_user users[1], peers[1];
	struct config_cidr cidr;
	struct zd_err err;
	char p[256], *item, *big;
	const char *subs[] = { "tmp", "new", "cur", "bad" };
	size_t i;
	int st;
	FILE *fp;

	log_init("test_cgi", LOG_ERROR);
	snprintf(root, sizeof root, "/tmp/zd-test-cgi.XXXXXX");
	ok(mkdtemp(root) != NULL, "temp dir");
	snprintf(spool, sizeof spool, "%s/spool", root);
	snprintf(state, sizeof state, "%s/state", root);
	mkdir(spool, 0770);
	mkdir(state, 0770);
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s/%s", spool, subs[i]);
		mkdir(p, 0770);
	}
	memset(&cfg, 0, sizeof cfg);
	memset(users, 0, sizeof users);
	memset(peers, 0, sizeof peers);
	users[0].name = "da";
	users[0].password = "pw";
	peers[0].name = "peer";
	peers[0].password = "pp";
	cfg.spool_dir = spool;
	cfg.state_dir = state;
	cfg.receiver.users = users;
	cfg.receiver.nusers = 1;
	cfg.receiver.max_body = 4096;
	cfg.receiver.parent_exists = 3;
	cfg.peers.users = peers;
	cfg.peers.nusers = 1;

	/* login test */
	st = serve(&cfg, "GET", "/CMD_API_LOGIN_TEST", NULL, AUTH_OK, NULL, 0, NULL);
	is_int(st, 200, "login test 200");
	is_str(body_of(), "error=0&text=Login%20OK", "login test body");
	ok(strncmp(answer, "Status: 200 OK\r\n", 16) == 0, "Status header first");
	ok(strstr(answer, "Content-Type: text/plain; charset=utf-8\r\n") != NULL, "Content-Type");
	st = serve(&cfg, "POST", "/CMD_API_LOGIN_TEST", "action=rawsave&domain=a.example.net",
	           AUTH_OK, ZONE, strlen(ZONE), NULL);
	is_int(st, 200, "login test by POST with a zone: 200, nothing spooled");
	is_int((long long)count("new"), 0, "  nothing in new/");
	st = serve(&cfg, "GET", "/CMD_API_LOGIN_TEST", NULL, AUTH_BAD, NULL, 0, NULL);
	refused(st, 401, "wrong password");
	ok(strstr(answer, "WWW-Authenticate: Basic realm=\"zonedrop\"\r\n") != NULL,
	   "  WWW-Authenticate");
	st = serve(&cfg, "GET", "/CMD_API_LOGIN_TEST", NULL, NULL, NULL, 0, NULL);
	refused(st, 401, "no credentials");
	st = serve(&cfg, "GET", "/CMD_API_LOGIN_TEST", NULL, AUTH_PEER, NULL, 0, NULL);
	refused(st, 401, "peer account on the DA endpoint");

	/* endpoints and methods */
	st = serve(&cfg, "GET", "/etc/passwd", NULL, AUTH_OK, NULL, 0, NULL);
	refused(st, 404, "unknown path");
	st = serve(&cfg, "GET", "/CMD_API_DNS_ADMIN/x", NULL, AUTH_OK, NULL, 0, NULL);
	refused(st, 404, "path below an endpoint");
	st = serve(&cfg, "PUT", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=a.example.net", AUTH_OK,
	           ZONE, strlen(ZONE), NULL);
	refused(st, 405, "PUT");
	ok(strstr(answer, "Allow: GET, POST\r\n") != NULL, "  Allow header");
	st = serve(&cfg, "HEAD", "/CMD_API_DNS_ADMIN", "action=exists&domain=a.example.net", AUTH_OK,
	           NULL, 0, NULL);
	refused(st, 405, "HEAD");
	st = serve(&cfg, "GET", "/CMD_API_DNS_ADMIN", NULL, AUTH_OK, NULL, 0, NULL);
	refused(st, 400, "GET without action");
	st = serve(&cfg, "GET", "/CMD_API_DNS_ADMIN", "action=frob", AUTH_OK, NULL, 0, NULL);
	refused(st, 400, "unknown action");
	st = serve(&cfg, "GET", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=a.example.net", AUTH_OK,
	           NULL, 0, NULL);
	refused(st, 405, "rawsave over GET");
	st = serve(&cfg, "GET", "/CMD_API_DNS_ADMIN", "action=delete&domain=a.example.net", AUTH_OK,
	           NULL, 0, NULL);
	refused(st, 405, "delete over GET");
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", NULL, AUTH_OK, "", 0, NULL);
	is_int(st, 200, "POST without action or body");
	is_str(body_of(), "error=0&text=OK", "  error=0&text=OK");
	is_int((long long)count("new"), 0, "  nothing spooled");
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", NULL, AUTH_OK, ZONE, strlen(ZONE), NULL);
	refused(st, 400, "zone body without action");
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", NULL, AUTH_OK, FORM("cluster=yes"), NULL);
	refused(st, 400, "form body without action");
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", NULL, AUTH_OK,
	           FORM("action=rawsave&domain=a.example.net"), NULL);
	refused(st, 400, "rawsave from a form body (no zone)");

	/* peer and status endpoints */
	st = serve(&cfg, "GET", "/internal", NULL, AUTH_OK, NULL, 0, NULL);
	refused(st, 403, "DA account on /internal");
	{
		struct cgi_request req;
		FILE *o = fopen("/dev/null", "w");
		memset(&req, 0, sizeof req);
		req.method = "GET";
		req.script_name = "/internal";
		req.path_info = "/zones";
		req.authorization = AUTH_BAD;
		is_int(cgi_serve(&cfg, &req, stdin, o), 401, "bad credentials on /internal/zones: 401");
		req.authorization = AUTH_PEER;
		/* no state yet: an empty list (peer_export.c; tests/unit/test_peer.c has more) */
		is_int(cgi_serve(&cfg, &req, stdin, o), 200, "peer on /internal/zones: 200");
		req.method = "POST";
		is_int(cgi_serve(&cfg, &req, stdin, o), 405, "POST on /internal/zones: 405");
		req.method = "GET";
		req.script_name = "/usr/lib/cgi-bin/zonedrop.cgi";
		req.path_info = NULL;
		req.request_uri = "/internal/zones?since=x";
		is_int(cgi_serve(&cfg, &req, stdin, o), 200, "endpoint from REQUEST_URI");
		fclose(o);
	}
	/* /status and /metrics (status.c, test_status.c): receiver users, GET only */
	st = serve(&cfg, "GET", "/status", NULL, AUTH_OK, NULL, 0, NULL);
	is_int(st, 200, "/status: 200");
	ok(body_of()[0] == '{', "/status: a JSON body");
	st = serve(&cfg, "GET", "/metrics", NULL, AUTH_OK, NULL, 0, NULL);
	is_int(st, 200, "/metrics: 200");
	ok(strncmp(body_of(), "# HELP zonedrop_", 16) == 0, "/metrics: the text format");
	st = serve(&cfg, "GET", "/metrics", NULL, AUTH_PEER, NULL, 0, NULL);
	refused(st, 401, "peer on /metrics");
	st = serve(&cfg, "GET", "/status", NULL, AUTH_BAD, NULL, 0, NULL);
	refused(st, 401, "bad credentials on /status");
	st = serve(&cfg, "POST", "/status", NULL, AUTH_OK, FORM("x=1"), NULL);
	refused(st, 405, "POST /status");

	/* rawsave */
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN",
	           "action=rawsave&domain=a.example.net&hostname=da1.example.net&username=alice",
	           AUTH_OK, ZONE, strlen(ZONE), NULL);
	is_int(st, 200, "rawsave accepted");
	is_str(body_of(), "error=0", "  error=0");
	is_int((long long)count("tmp"), 0, "  tmp/ empty");
	item = take_item();
	ok(item != NULL, "  one item in new/");
	if (item != NULL) {
		struct spool_item si;
		memset(&si, 0, sizeof si);
		is_int(spool_item_parse(item, strlen(item), &si, &err), 0, "  item parses");
		is_int(si.action, SPOOL_RAWSAVE, "  Action: rawsave");
		is_str(si.domain, "a.example.net", "  Domain");
		is_str(si.hostname, "da1.example.net", "  Hostname");
		is_str(si.username, "alice", "  Username");
		is_str(si.source, "directadmin", "  Source");
		is_str(si.client_ip, "192.0.2.9", "  Client-Ip");
		ok(strlen(si.received) >= 27 && si.received[strlen(si.received) - 1] == 'Z',
		   "  Received: %s", si.received);
		ok(si.text != NULL && si.text_len == strlen(ZONE) && memcmp(si.text, ZONE, si.text_len) == 0,
		   "  body is the zone as sent");
		spool_item_clear(&si);
		free(item);
	}
	{
		const char crlf[] = "$TTL 300\r\n@ IN SOA ns1.example.org. h ( 1 2 3 4 5 )\r\n"
		                    "@ IN NS ns1.example.org.\r\nwww IN TXT \"a\rb\"\r\n";
		st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=b.example.net",
		           AUTH_OK, crlf, sizeof crlf - 1, NULL);
		is_int(st, 200, "CRLF zone accepted");
		item = take_item();
		ok(item != NULL && strchr(item, '\n') != NULL, "  stored");
		if (item != NULL) {
			const char *b = strstr(item, "\n\n");
			ok(b != NULL && strstr(b, "\r\n") == NULL, "  CRLF stored as LF");
			ok(b != NULL && strstr(b, "a\rb") != NULL, "  a lone CR is kept");
			ok(strstr(item, "Hostname: \n") != NULL && strstr(item, "Username: \n") != NULL,
			   "  absent hostname and username are empty");
		}
		free(item);
	}
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=c.example.net",
	           AUTH_OK, ZONE "$INCLUDE /etc/passwd\n", strlen(ZONE) + 21, NULL);
	refused(st, 400, "zone with $INCLUDE");
	ok(strstr(body_of(), "Invalid%20zone%20data%3A%20line%205%3A") != NULL,
	   "  text says Invalid zone data: line 5: ...");
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=c.example.net",
	           AUTH_OK, ZONE "x\x01\n", strlen(ZONE) + 3, NULL);
	refused(st, 400, "control byte in the body");
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=c.example.net",
	           AUTH_OK, ZONE, strlen(ZONE), "10000");
	refused(st, 413, "Content-Length over max_body");
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=c.example.net",
	           AUTH_OK, ZONE, strlen(ZONE), "4000");
	refused(st, 400, "body shorter than Content-Length");
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=c.example.net",
	           AUTH_OK, ZONE, strlen(ZONE), "12abc");
	refused(st, 400, "Content-Length garbage");
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=c.example.net",
	           AUTH_OK, "", 0, NULL);
	refused(st, 400, "empty zone");
	{
		const char other[] = "b.example.net. IN SOA ns1.example.org. h 1 2 3 4 5\n"
		                     "b.example.net. IN NS ns1.example.org.\n";
		st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=d.example.net",
		           AUTH_OK, other, sizeof other - 1, NULL);
		refused(st, 400, "zone of another domain");
	}
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=C.example.net",
	           AUTH_OK, ZONE, strlen(ZONE), NULL);
	refused(st, 400, "upper-case domain");
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN",
	           "action=rawsave&domain=a.example.net&hostname=x%0AAction:%20delete", AUTH_OK, ZONE,
	           strlen(ZONE), NULL);
	refused(st, 400, "newline in hostname");
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=a.example.net&username=a%20b",
	           AUTH_OK, ZONE, strlen(ZONE), NULL);
	refused(st, 400, "space in username");
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN",
	           "action=rawsave&domain=a.example.net&domain=a.example.net", AUTH_OK, ZONE,
	           strlen(ZONE), NULL);
	refused(st, 400, "domain twice");
	big = malloc(4097);
	memset(big, ';', 4096);
	memcpy(big, ZONE, strlen(ZONE));
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=a.example.net", AUTH_OK,
	           big, 4096, NULL);
	is_int(st, 200, "body of exactly max_body accepted");
	clear_new();
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=a.example.net", AUTH_OK,
	           big, 4097, NULL);
	refused(st, 413, "max_body + 1");
	free(big);

	/* delete */
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", NULL, AUTH_OK,
	           FORM("action=delete&cluster=yes&hostname=da1.example.net&select0=a.example.net"),
	           NULL);
	is_int(st, 200, "DA delete accepted");
	item = take_item();
	ok(item != NULL && strstr(item, "Action: delete\n") != NULL &&
	   strstr(item, "Domain: a.example.net\n") != NULL &&
	   strstr(item, "Hostname: da1.example.net\n") != NULL, "  one delete item");
	free(item);
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", NULL, AUTH_OK,
	           FORM("action=delete&select0=a.example.net&select1=b.example.net&select2=a.example.net"), NULL);
	is_int(st, 200, "delete of two (one repeated)");
	is_int((long long)count("new"), 2, "  two items");
	clear_new();
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", "action=delete&domain=a.example.net", AUTH_OK,
	           NULL, 0, NULL);
	is_int(st, 200, "delete with domain= in the query");
	is_int((long long)count("new"), 1, "  one item");
	clear_new();
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", NULL, AUTH_OK,
	           FORM("action=delete&select0=a.example.net&select1=%2Fetc%2Fpasswd"), NULL);
	refused(st, 400, "one bad name of two: nothing");
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", NULL, AUTH_OK,
	           FORM("action=delete&domain=a.example.net&select0=b.example.net"), NULL);
	refused(st, 400, "domain and select0 differ");
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", NULL, AUTH_OK,
	           FORM("action=delete&domain=a.example.net&select0=a.example.net"), NULL);
	is_int(st, 200, "domain and select0 the same");
	is_int((long long)count("new"), 1, "  one item");
	clear_new();
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", NULL, AUTH_OK, FORM("action=delete&cluster=yes"),
	           NULL);
	refused(st, 400, "delete naming nothing");
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", NULL, AUTH_OK,
	           FORM("action=delete&select0=a.example.net&hostname=bad_host"), NULL);
	refused(st, 400, "delete with a bad hostname");

	/* exists, from the zone index */
	st = serve(&cfg, "GET", "/CMD_API_DNS_ADMIN", "action=exists&domain=a.example.net", AUTH_OK,
	           NULL, 0, NULL);
	is_int(st, 200, "exists without an index");
	is_str(body_of(), "error=0&exists=0", "  exists=0");
	snprintf(p, sizeof p, "%s/zones.idx", state);
	fp = fopen(p, "w");
	fputs("example.net\tda1.example.net\talice\n", fp);
	fclose(fp);
	serve(&cfg, "GET", "/CMD_API_DNS_ADMIN", "action=exists&domain=example.net", AUTH_OK, NULL, 0,
	      NULL);
	is_str(body_of(), "error=0&exists=1&details=Domain%20exists%20on%20da1.example.net",
	       "held: exists=1");
	serve(&cfg, "GET", "/CMD_API_DNS_ADMIN",
	      "action=exists&domain=a.b.example.net&check_for_parent_domain=true", AUTH_OK, NULL, 0,
	      NULL);
	is_str(body_of(), "error=0&exists=3&hostname=da1.example.net&username=alice",
	       "held ancestor: exists=3");
	serve(&cfg, "GET", "/CMD_API_DNS_ADMIN", "action=exists&domain=a.b.example.net", AUTH_OK,
	      NULL, 0, NULL);
	is_str(body_of(), "error=0&exists=0", "no flag: exists=0");
	serve(&cfg, "GET", "/CMD_API_DNS_ADMIN",
	      "action=exists&domain=a.example.net&check_for_parent_domain=no", AUTH_OK, NULL, 0, NULL);
	is_str(body_of(), "error=0&exists=0", "flag no: exists=0");
	cfg.receiver.parent_exists = 2;
	serve(&cfg, "GET", "/CMD_API_DNS_ADMIN",
	      "action=exists&domain=a.example.net&check_for_parent_domain=1", AUTH_OK, NULL, 0, NULL);
	is_str(body_of(), "error=0&exists=2&details=Parent%20Domain%20exists%20on%20da1.example.net",
	       "parent_exists 2: exists=2");
	cfg.receiver.parent_exists = 3;
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", NULL, AUTH_OK,
	           FORM("action=exists&domain=example.net"), NULL);
	is_int(st, 200, "exists by POST form");
	is_str(body_of(), "error=0&exists=1&details=Domain%20exists%20on%20da1.example.net",
	       "  same answer");
	st = serve(&cfg, "GET", "/CMD_API_DNS_ADMIN", "action=exists", AUTH_OK, NULL, 0, NULL);
	refused(st, 400, "exists without domain");
	st = serve(&cfg, "GET", "/CMD_API_DNS_ADMIN", "action=exists&domain=..%2Fx", AUTH_OK, NULL, 0,
	           NULL);
	refused(st, 400, "exists of a path");

	/* configuration and environment */
	cidr.family = 0;
	auth_cidr_parse("203.0.113.0/24", &cidr, &err);
	cfg.receiver.allow_from = &cidr;
	cfg.receiver.nallow_from = 1;
	st = serve(&cfg, "GET", "/CMD_API_LOGIN_TEST", NULL, AUTH_OK, NULL, 0, NULL);
	refused(st, 403, "client outside allow_from");
	cfg.receiver.nallow_from = 0;
	cfg.receiver.nusers = 0;
	st = serve(&cfg, "GET", "/CMD_API_LOGIN_TEST", NULL, AUTH_OK, NULL, 0, NULL);
	refused(st, 500, "no users configured");
	cfg.receiver.nusers = 1;
	snprintf(p, sizeof p, "%s/missing", root);
	cfg.spool_dir = p;
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=a.example.net", AUTH_OK,
	           ZONE, strlen(ZONE), NULL);
	is_int(st, 503, "spool missing: 503");
	ok(strstr(body_of(), "missing") == NULL, "  no path in the answer: %s", body_of());
	st = serve(&cfg, "POST", "/CMD_API_DNS_ADMIN", NULL, AUTH_OK,
	           FORM("action=delete&select0=a.example.net"), NULL);
	is_int(st, 503, "spool missing: delete 503");
	cfg.spool_dir = spool;
	{
		FILE *full = fopen("/dev/full", "w");
		struct cgi_request req;
		memset(&req, 0, sizeof req);
		req.method = "GET";
		req.script_name = "/CMD_API_LOGIN_TEST";
		req.authorization = AUTH_OK;
		if (full != NULL) {
			setvbuf(full, NULL, _IONBF, 0);
			is_int(cgi_serve(&cfg, &req, stdin, full), ZD_EIO, "a failed write is ZD_EIO");
			fclose(full);
		}
	}
	is_int(cgi_answer_error(fopen("/dev/null", "w"), 500, "x"), 0, "cgi_answer_error");

	snprintf(p, sizeof p, "rm -rf '%s'", root);
	ok(system(p) == 0, "cleanup");
	return tap_done();
}
