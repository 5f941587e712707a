/* backend_mysql.h -- internals of src/backend_mysql.c exposed for unit tests:
 * how a zone's text becomes rows of the PowerDNS gmysql and the CoreDNS
 * coredns_mysql_extend schemas (PROTOCOL.md section 9), and SQL quoting.
 * The backend entry points are in backend.h. */
#ifndef ZONEDROP_BACKEND_MYSQL_H
#define ZONEDROP_BACKEND_MYSQL_H

#include <stddef.h>
#include <stdint.h>

struct st_mysql;   /* MYSQL of <mysql.h> (MariaDB Connector/C and libmysqlclient) */

/* One row of the records table. */
struct mysql_row {
	char *name;      /* powerdns: owner, lower case, no trailing dot ("www.example.com");
	                    coredns: relative hostname ("@", "www", "*", "a.b") */
	char *type;      /* mnemonic: "A", "MX", "TYPE65534" */
	char *content;   /* presentation format; names lower case; powerdns: absolute names
	                    without the trailing dot, MX/SRV without the priority;
	                    coredns: absolute names with the trailing dot */
	uint32_t ttl;
	unsigned prio;   /* powerdns MX/SRV: the priority (PowerDNS 4.x reads it from the
	                    prio column and puts it in front of content); else 0 */
};

struct mysql_rows {
	struct mysql_row *rows;   /* the SOA first, then the zone's records in text order */
	size_t n;
	uint32_t serial;          /* the SOA serial */
};

/* Parse zone text (origin domain, no trailing dot) with ldns into rows of the
 * PowerDNS (pdns 1) or CoreDNS (pdns 0) schema. 0, or -1 with why set (the
 * zone is rejected); *out must be freed with backend_mysql_rows_free either way. */
int backend_mysql_rows(const char *domain, const char *text, size_t len, int pdns,
                       struct mysql_rows *out, char *why, size_t whysz);
void backend_mysql_rows_free(struct mysql_rows *z);

/* Write s as a quoted SQL string literal ('...') into out (room for
 * 2 * strlen(s) + 3 bytes), escaped by the client library for my's character
 * set and SQL mode (an unconnected handle from mysql_init works too).
 * Returns the length written. */
size_t backend_mysql_quote(struct st_mysql *my, char *out, const char *s);

#endif
