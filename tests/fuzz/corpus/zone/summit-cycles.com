












$TTL 3600
@       IN      SOA     ns1.bluecrane-hosting.com.      hostmaster.example.net. (
                                                2026031501
                                                3600
                                                3600
                                                1209600
                                                86400 )

example.net.	3600	IN	NS	ns1.bluecrane-hosting.com.
example.net.	3600	IN	NS	ns2.bluecrane-hosting.com.

Mail	3600	IN	A	198.51.100.241
WWW	3600	IN	A	198.51.100.240
example.net.	3600	IN	A	198.51.100.240

example.net.	3600	IN	MX	10 mail



example.net.	3600	IN	TXT	"v=spf1 a mx -all"







