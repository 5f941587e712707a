$TTL 3600
@	IN	SOA	ns1.kiwihost-dns.net. hostmaster.example.net. (
			2026032303
			3600
			3600
			1209600
			86400 )
@	3600	IN	NS	ns1.kiwihost-dns.net.
@	3600	IN	NS	ns2.kiwihost-dns.net.
@	3600	IN	A	203.0.113.41
ftp	3600	IN	A	203.0.113.41
mail	3600	IN	A	203.0.113.41
pop	3600	IN	A	203.0.113.41
smtp	3600	IN	A	203.0.113.41
www	3600	IN	A	203.0.113.41
webmail	3600	IN	A	203.0.113.41
@	3600	IN	MX	10 mail
@	3600	IN	TXT	"v=spf1 a mx ip4:203.0.113.41 ~all"