# Hostile and malformed requests (tests/fixtures/bad/*.case, adapted from the shared
# corpus plus zonedrop's own): each answered 4xx (or as the case says) with
# error=1&text=..., nothing in spool new/ or tmp/, and the receiver still answers a
# login test afterwards. The receiver runs with max_body: 1048576.
# A new case is a .case file (format: tests/e2e/lib/zdclient.py "cases", the shared
# corpus's bad/ format) plus its @test line below; the last test checks they match.
load lib/servers

setup_file() {
  e2e_init
  start_nsd
  write_config 3 1048576
  start_lighttpd
}
teardown_file() { e2e_cleanup; }
teardown() { e2e_teardown; }

# bad_case NAME: send tests/fixtures/bad/NAME.case, check answer, spool, liveness
bad_case() {
  run zdc cases "$FIXTURES/bad/$1.case" --spool "$ZD_SPOOL"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "hostile 001-domain-relative-traversal: relative path traversal in domain" {
  bad_case 001-domain-relative-traversal
}

@test "hostile 002-domain-absolute-path: absolute path as domain" {
  bad_case 002-domain-absolute-path
}

@test "hostile 003-domain-slash: slash inside a name" {
  bad_case 003-domain-slash
}

@test "hostile 004-domain-backslash: backslash inside a name" {
  bad_case 004-domain-backslash
}

@test "hostile 005-domain-nul: NUL byte inside the name" {
  bad_case 005-domain-nul
}

@test "hostile 006-domain-newline-injection: newline carrying an nsd.conf stanza" {
  bad_case 006-domain-newline-injection
}

@test "hostile 007-domain-space: space inside the name" {
  bad_case 007-domain-space
}

@test "hostile 008-domain-plus-space: '+' decodes to a space" {
  bad_case 008-domain-plus-space
}

@test "hostile 009-domain-uppercase: upper-case name (DirectAdmin only sends lower case)" {
  bad_case 009-domain-uppercase
}

@test "hostile 010-domain-trailing-dot: trailing dot" {
  bad_case 010-domain-trailing-dot
}

@test "hostile 011-domain-leading-dot: leading dot" {
  bad_case 011-domain-leading-dot
}

@test "hostile 012-domain-empty: empty domain parameter" {
  bad_case 012-domain-empty
}

@test "hostile 013-domain-missing: rawsave without any domain parameter" {
  bad_case 013-domain-missing
}

@test "hostile 014-domain-overlong: name of 304 characters" {
  bad_case 014-domain-overlong
}

@test "hostile 015-domain-label-64: label of 64 characters" {
  bad_case 015-domain-label-64
}

@test "hostile 016-domain-wildcard: wildcard as a zone name" {
  bad_case 016-domain-wildcard
}

@test "hostile 017-domain-quote: double quote (named.conf injection)" {
  bad_case 017-domain-quote
}

@test "hostile 018-domain-brace: closing brace and semicolon (named.conf injection)" {
  bad_case 018-domain-brace
}

@test "hostile 019-domain-semicolon: semicolon inside the name" {
  bad_case 019-domain-semicolon
}

@test "hostile 020-domain-raw-utf8: raw UTF-8 instead of an A-label" {
  bad_case 020-domain-raw-utf8
}

@test "hostile 021-domain-double-encoded: double url-encoded traversal" {
  bad_case 021-domain-double-encoded
}

@test "hostile 022-domain-encoded-dots: %2e%2e%2f traversal" {
  bad_case 022-domain-encoded-dots
}

@test "hostile 023-domain-overlong-utf8: overlong UTF-8 encoding of '/'" {
  bad_case 023-domain-overlong-utf8
}

@test "hostile 024-domain-bad-percent: invalid percent escape" {
  bad_case 024-domain-bad-percent
}

@test "hostile 025-domain-at-sign: '@' inside the name" {
  bad_case 025-domain-at-sign
}

@test "hostile 026-domain-trailing-hyphen: label ending in a hyphen" {
  bad_case 026-domain-trailing-hyphen
}

@test "hostile 027-domain-underscore: underscore in a zone name" {
  bad_case 027-domain-underscore
}

@test "hostile 028-domain-non-utf8: bytes that are not UTF-8" {
  bad_case 028-domain-non-utf8
}

@test "hostile 029-domain-tab: tab inside the name" {
  bad_case 029-domain-tab
}

@test "hostile 030-domain-port: host:port as domain" {
  bad_case 030-domain-port
}

@test "hostile 031-zone-no-soa: zone without SOA" {
  bad_case 031-zone-no-soa
}

@test "hostile 032-zone-soa-other-owner: SOA owned by another domain than the one pushed" {
  bad_case 032-zone-soa-other-owner
}

@test "hostile 033-zone-include-absolute: \$INCLUDE of a local file" {
  bad_case 033-zone-include-absolute
}

@test "hostile 034-zone-include-relative: \$INCLUDE with a relative path and origin" {
  bad_case 034-zone-include-relative
}

@test "hostile 035-zone-generate: \$GENERATE directive" {
  bad_case 035-zone-generate
}

@test "hostile 036-zone-include-lowercase: \$include in lower case" {
  bad_case 036-zone-include-lowercase
}

@test "hostile 037-zone-bad-ipv4: A record with an impossible address" {
  bad_case 037-zone-bad-ipv4
}

@test "hostile 038-zone-unknown-type: unknown record type" {
  bad_case 038-zone-unknown-type
}

@test "hostile 039-zone-garbage: text that is not a zone" {
  bad_case 039-zone-garbage
}

@test "hostile 040-zone-empty: empty body" {
  bad_case 040-zone-empty
}

@test "hostile 041-zone-oversized: body over receiver.max_body (valid zone plus comment padding)" {
  bad_case 041-zone-oversized
}

@test "hostile 042-zone-giant-line: one owner name of 100,000 characters" {
  bad_case 042-zone-giant-line
}

@test "hostile 043-zone-txt-over-255: a TXT character-string longer than 255" {
  bad_case 043-zone-txt-over-255
}

@test "hostile 044-zone-cname-apex: CNAME at the apex next to SOA and NS" {
  bad_case 044-zone-cname-apex
}

@test "hostile 045-zone-cname-and-a: CNAME and A at the same name" {
  bad_case 045-zone-cname-and-a
}

@test "hostile 046-zone-out-of-zone-owner: absolute owner outside the zone" {
  bad_case 046-zone-out-of-zone-owner
}

@test "hostile 047-zone-origin-switch: \$ORIGIN moved to another zone" {
  bad_case 047-zone-origin-switch
}

@test "hostile 048-zone-origin-root: \$ORIGIN . making relative names top-level" {
  bad_case 048-zone-origin-root
}

@test "hostile 049-zone-parent-record: record for the parent domain" {
  bad_case 049-zone-parent-record
}

@test "hostile 050-zone-open-paren: unterminated parenthesis" {
  bad_case 050-zone-open-paren
}

@test "hostile 051-zone-open-quote: unterminated quote" {
  bad_case 051-zone-open-quote
}

@test "hostile 052-zone-html: an HTML error page instead of a zone" {
  bad_case 052-zone-html
}

@test "hostile 053-zone-binary: binary noise with NUL bytes" {
  bad_case 053-zone-binary
}

@test "hostile 054-zone-nul-inside: NUL byte inside an otherwise valid zone" {
  bad_case 054-zone-nul-inside
}

@test "hostile 055-zone-bad-ttl: negative \$TTL" {
  bad_case 055-zone-bad-ttl
}

@test "hostile 056-zone-bad-serial: non-numeric SOA serial" {
  bad_case 056-zone-bad-serial
}

@test "hostile 057-zone-comments-only: comments and directives but no records" {
  bad_case 057-zone-comments-only
}

@test "hostile 058-zone-two-apex-cname: two CNAMEs at one name" {
  bad_case 058-zone-two-apex-cname
}

@test "hostile 060-auth-missing: no Authorization header" {
  bad_case 060-auth-missing
}

@test "hostile 061-auth-wrong-password: wrong password" {
  bad_case 061-auth-wrong-password
}

@test "hostile 062-auth-unknown-user: unknown user" {
  bad_case 062-auth-unknown-user
}

@test "hostile 063-auth-bearer: Bearer scheme instead of Basic" {
  bad_case 063-auth-bearer
}

@test "hostile 064-auth-basic-empty: Basic with nothing after it" {
  bad_case 064-auth-basic-empty
}

@test "hostile 065-auth-user-case: user name in another case" {
  bad_case 065-auth-user-case
}

@test "hostile 066-auth-password-newline: password with a trailing newline" {
  bad_case 066-auth-password-newline
}

@test "hostile 067-auth-password-prefix: only a prefix of the password" {
  bad_case 067-auth-password-prefix
}

@test "hostile 068-auth-login-test-wrong: login test with a wrong password" {
  bad_case 068-auth-login-test-wrong
}

@test "hostile 069-auth-exists-none: exists without credentials" {
  bad_case 069-auth-exists-none
}

@test "hostile 070-method-put: PUT is not a DirectAdmin method" {
  bad_case 070-method-put
}

@test "hostile 071-method-delete: HTTP DELETE" {
  bad_case 071-method-delete
}

@test "hostile 072-method-patch: PATCH" {
  bad_case 072-method-patch
}

@test "hostile 073-action-unknown: unknown action" {
  bad_case 073-action-unknown
}

@test "hostile 074-get-rawsave: rawsave over GET must not change anything" {
  bad_case 074-get-rawsave
}

@test "hostile 075-get-delete: delete over GET must not change anything" {
  bad_case 075-get-delete
}

@test "hostile 076-dup-domain: two different domain parameters" {
  bad_case 076-dup-domain
}

@test "hostile 077-dup-action: two different action parameters" {
  bad_case 077-dup-action
}

@test "hostile 078-delete-no-domain: delete naming no domain" {
  bad_case 078-delete-no-domain
}

@test "hostile 079-delete-traversal: delete of a path" {
  bad_case 079-delete-traversal
}

@test "hostile 080-delete-one-bad-of-two: one valid and one hostile select: all or nothing" {
  bad_case 080-delete-one-bad-of-two
}

@test "hostile 081-zone-without-query: a zone body with no action anywhere" {
  bad_case 081-zone-without-query
}

@test "hostile 082-rawsave-to-login-test: a rawsave sent to the login test changes nothing" {
  bad_case 082-rawsave-to-login-test
}

@test "hostile 083-internal-with-da-user: peer endpoint refuses DirectAdmin's credentials" {
  bad_case 083-internal-with-da-user
}

@test "hostile 084-huge-query: query string of 64 KiB" {
  bad_case 084-huge-query
}

@test "hostile 085-content-length-garbage: Content-Length that is not a number" {
  bad_case 085-content-length-garbage
}

@test "hostile 086-content-length-twice: two different Content-Length headers" {
  bad_case 086-content-length-twice
}

@test "hostile 087-hostname-newline: hostname carrying a spool header line" {
  bad_case 087-hostname-newline
}

@test "hostile 088-username-nul: NUL byte in username" {
  bad_case 088-username-nul
}

@test "hostile 089-exists-missing-domain: exists without a domain" {
  bad_case 089-exists-missing-domain
}

@test "hostile 090-get-no-action: GET of the DNS admin command without action" {
  bad_case 090-get-no-action
}

@test "hostile 101-delete-domain-select-differ: delete whose domain= and select0 name different zones" {
  bad_case 101-delete-domain-select-differ
}

@test "hostile 102-delete-select-twice: select0 given twice in a delete body" {
  bad_case 102-delete-select-twice
}

@test "hostile 103-exists-uppercase: exists for an upper-case name is refused, not folded" {
  bad_case 103-exists-uppercase
}

@test "hostile 104-exists-traversal: exists for a path" {
  bad_case 104-exists-traversal
}

@test "hostile 105-username-too-long: username of 65 characters" {
  bad_case 105-username-too-long
}

@test "hostile 106-username-space: space inside username" {
  bad_case 106-username-space
}

@test "hostile 107-hostname-underscore: underscore inside hostname" {
  bad_case 107-hostname-underscore
}

@test "hostile 108-zone-ttl-over-2-31: TTL above 2^31-1" {
  bad_case 108-zone-ttl-over-2-31
}

@test "hostile 109-zone-class-ch: a record of class CH" {
  bad_case 109-zone-class-ch
}

@test "hostile 110-zone-two-soa: two SOA records" {
  bad_case 110-zone-two-soa
}

@test "hostile 111-zone-include-mixed-case: \$Include in mixed case" {
  bad_case 111-zone-include-mixed-case
}

@test "hostile 112-zone-control-byte: a control byte (0x01) in a comment" {
  bad_case 112-zone-control-byte
}

@test "hostile 113-zone-suffix-not-label: owner that ends with the domain as a string but not label-wise" {
  bad_case 113-zone-suffix-not-label
}

@test "hostile 114-delete-second-uppercase: delete of two where the second is upper case: all or nothing" {
  bad_case 114-delete-second-uppercase
}

@test "hostile 115-domain-single-label: a single-label domain" {
  bad_case 115-domain-single-label
}

@test "hostile 116-domain-numeric-tld: last label all digits" {
  bad_case 116-domain-numeric-tld
}

@test "hostile 117-domain-leading-hyphen: label starting with a hyphen" {
  bad_case 117-domain-leading-hyphen
}

@test "hostile 118-domain-ip-address: an IPv4 address as domain" {
  bad_case 118-domain-ip-address
}

@test "hostile 119-domain-254-chars: name of 254 characters" {
  bad_case 119-domain-254-chars
}

@test "hostile 120-head-method: HEAD is not a DirectAdmin method (no body to check)" {
  bad_case 120-head-method
}

@test "hostile 121-zone-body-over-max-by-one: body one byte over receiver.max_body" {
  bad_case 121-zone-body-over-max-by-one
}

@test "hostile 122-dup-domain-same: domain given twice with the same value" {
  bad_case 122-dup-domain-same
}

@test "hostile 123-query-and-body-dup: no action in the query: body params; domain in both query and body" {
  bad_case 123-query-and-body-dup
}

@test "hostile 124-exists-post-dup-same: exists POSTed with domain twice" {
  bad_case 124-exists-post-dup-same
}

@test "hostile 125-exists-nul: exists with a NUL byte in the name" {
  bad_case 125-exists-nul
}

@test "hostile 126-delete-empty-select: delete with an empty select0" {
  bad_case 126-delete-empty-select
}

@test "hostile 127-zone-cname-beside-a: CNAME beside other data below the apex" {
  bad_case 127-zone-cname-beside-a
}

@test "hostile 128-exists-wrong-password: exists with a wrong password" {
  bad_case 128-exists-wrong-password
}

@test "after every hostile request: new/ and tmp/ are empty, nothing reached NSD or the file system" {
  [ "$(spool_count new)" -eq 0 ] || { echo "new/: $(spool_names new)"; return 1; }
  [ "$(spool_count tmp)" -eq 0 ] || { echo "tmp/: $(spool_names tmp)"; return 1; }
  [ ! -e /tmp/zonedrop-pwned ] || { echo "/tmp/zonedrop-pwned exists"; return 1; }
  [ ! -s "$NSD_INCLUDE" ] || { echo "NSD include not empty:"; cat "$NSD_INCLUDE"; return 1; }
  drain_ok
  [ -z "$(ls -A "$NSD_ZONES")" ] || { echo "zone files written: $(ls "$NSD_ZONES")"; return 1; }
  [ -z "$(ls -A "$ZD_SPOOL/bad")" ] || { echo "bad/: $(ls "$ZD_SPOOL/bad")"; return 1; }
}

@test "every case file in tests/fixtures/bad has its test in this file (at least 40)" {
  local f n count=0 tested
  tested=$(sed -n 's/^  bad_case \([^ ]*\)$/\1/p' "$BATS_TEST_FILENAME")
  for f in "$FIXTURES"/bad/*.case; do
    n=${f##*/}
    n=${n%.case}
    [[ $'\n'$tested$'\n' == *$'\n'$n$'\n'* ]] || { echo "no test for $n"; return 1; }
    count=$((count + 1))
  done
  [ "$count" -ge 40 ]
}
