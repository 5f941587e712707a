# zonedrop -- zone-sync agent for authoritative DNS. Plain GNU make.
# make            programs into bin/
# make check      unit tests, fuzz-seed replay, man lint, end-to-end (bats)
# make asan       the same with ASan+UBSan (build in build-asan/)
# make valgrind   unit tests under valgrind
# make fuzz       libFuzzer harnesses (clang)
# make install / uninstall   PREFIX, DESTDIR, SYSCONFDIR, ...

PKG_CONFIG ?= pkg-config
CC ?= cc
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec/zonedrop
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= /lib/systemd/system
TMPFILESDIR ?= /usr/lib/tmpfiles.d

# where objects and programs go (make asan uses build-asan/)
B ?= build
OUT ?= bin

MYSQL_PC := $(shell $(PKG_CONFIG) --exists libmariadb 2>/dev/null && echo libmariadb || echo mysqlclient)
PCMODS := yaml-0.1 sqlite3 libcurl ldns jansson $(MYSQL_PC)

ZD_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude \
             $(shell $(PKG_CONFIG) --cflags $(PCMODS))
ZD_LDFLAGS := -Wl,--as-needed
LIB_CORE := $(shell $(PKG_CONFIG) --libs yaml-0.1 sqlite3 ldns) -lcrypt -lpthread
LIB_JSON := $(shell $(PKG_CONFIG) --libs jansson)
LIB_FCGI := $(shell $(PKG_CONFIG) --libs fcgi 2>/dev/null || echo -lfcgi)
LIB_CURL := $(shell $(PKG_CONFIG) --libs libcurl)
LIB_MYSQL := $(shell $(PKG_CONFIG) --libs $(MYSQL_PC))
LIB_ALL := $(LIB_CORE) $(LIB_JSON) $(LIB_CURL) $(LIB_MYSQL)

CFLAGS ?= -O2 -g
ALL_CFLAGS = $(ZD_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS)
ALL_LDFLAGS = $(ZD_LDFLAGS) $(LDFLAGS) $(SANFLAGS)

SRCS := $(sort $(wildcard src/*.c))
OBJS := $(SRCS:src/%.c=$(B)/src/%.o)
LIB := $(B)/libzonedrop.a

# programs: cmd/<name>.c -> $(OUT)/<name>; the CGI needs no curl or MySQL (JSON: jansson; FastCGI: libfcgi)
PROGS := zonedrop.cgi zonedrop-drain zonedrop
PROGS += $(filter-out $(PROGS),$(patsubst cmd/%.c,%,$(wildcard cmd/*.c)))
BINS := $(PROGS:%=$(OUT)/%)
# zonedrop(8)'s later commands, one file each in cmd/cli/
CLI_SRCS := $(sort $(wildcard cmd/cli/*.c))
CLI_OBJS := $(CLI_SRCS:cmd/cli/%.c=$(B)/cmd/cli/%.o)

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%-replay)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)
MANS := $(sort $(wildcard man/*.[0-9]))

.PHONY: all check unit fuzz-replay e2e lint asan valgrind fuzz install install-only uninstall clean deps
all: $(BINS)

$(B)/src/%.o: src/%.c $(wildcard include/zonedrop/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $(OBJS)

$(B)/cmd/%.o: cmd/%.c $(wildcard include/zonedrop/*.h) cmd/cli/cli.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(OUT)/zonedrop.cgi: $(B)/cmd/zonedrop.cgi.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIB_CORE) $(LIB_JSON) $(LIB_FCGI)

$(OUT)/zonedrop: $(B)/cmd/zonedrop.o $(CLI_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(CLI_OBJS) $(LIB) $(LIB_ALL)

$(OUT)/%: $(B)/cmd/%.o $(B)/cmd/cli/common.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/cmd/cli/common.o $(LIB) $(LIB_ALL)

$(B)/tests/%: tests/unit/%.c tests/unit/tap.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIB_ALL)

$(B)/fuzz/%-replay: tests/fuzz/%.c tests/fuzz/main.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< tests/fuzz/main.c $(LIB) $(LIB_ALL)

unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do \
	  out=$$($$t 2>&1); rc=$$?; \
	  nok=$$(printf '%s\n' "$$out" | grep -c '^not ok'); \
	  if [ $$rc -ne 0 ] || [ $$nok -ne 0 ]; then fail=1; printf '%s\n' "$$out" | grep -v '^ok' ; echo "FAIL $$t"; \
	  else echo "ok   $$t ($$(printf '%s\n' "$$out" | grep -c '^ok') tests)"; fi; \
	done; exit $$fail

fuzz-replay: $(FUZZ_REPLAY)
	@for h in $(FUZZ_REPLAY); do n=$$(basename $$h -replay); \
	  $$h tests/fuzz/corpus/$${n#fuzz_}/* >/dev/null || { echo "FAIL $$h"; exit 1; }; \
	  echo "ok   $$h ($$(ls tests/fuzz/corpus/$${n#fuzz_} | wc -l) seeds)"; done

lint:
	mandoc -Tlint -W warning $(MANS)
	@command -v shellcheck >/dev/null && shellcheck -S warning tests/e2e/lib/*.bash scripts/* bench/push-drain || true

e2e: all
	ZONEDROP_BIN=$(CURDIR)/$(OUT) bats --timing tests/e2e

check: all unit fuzz-replay lint e2e

# ASan+UBSan build of everything in build-asan/, then the whole check on it
asan:
	$(MAKE) B=build-asan OUT=build-asan/bin CFLAGS="-O1 -g -fno-omit-frame-pointer" \
	  SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" check

valgrind: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do \
	  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	    $$t >/dev/null || { echo "FAIL valgrind $$t"; exit 1; }; echo "ok   valgrind $$t"; done

$(B)/fuzz/%: tests/fuzz/%.c $(SRCS)
	@mkdir -p $(@D)
	clang $(ZD_CFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< $(SRCS) $(LIB_ALL) $(LIB_FCGI)

fuzz: $(FUZZ_BINS)
	@for h in $(FUZZ_BINS); do n=$$(basename $$h); echo "== $$n"; \
	  mkdir -p $(B)/fuzz/corpus-$$n; \
	  $$h -max_total_time=$${FUZZ_SECONDS:-60} $(B)/fuzz/corpus-$$n tests/fuzz/corpus/$${n#fuzz_} || exit 1; done

deps:
	scripts/install-deps

# make install: programs (all but the CGI) into SBINDIR -- operators' and systemd's tools,
# like nsd-control -- the CGI into LIBEXECDIR (only the web server runs it), man pages,
# each program's systemd units (systemd/<program>.*), the tmpfiles.d snippet, examples
# into DOCDIR, and zonedrop.yml unless one exists. Installed units and examples name
# the installed paths (SBINDIR, LIBEXECDIR, SYSCONFDIR). INSTALLED lists what it wrote.
DOCDIR ?= $(PREFIX)/share/doc/zonedrop
EXAMPLES := examples/zonedrop.yml examples/nginx.conf examples/lighttpd.conf examples/lighttpd-fastcgi.conf
INST_PROGS = $(filter-out zonedrop.cgi,$(notdir $(wildcard $(BINS))))
INST_UNITS = $(foreach p,$(INST_PROGS),$(wildcard systemd/$(p).service systemd/$(p).timer systemd/$(p).path))
INST_SUBST = sed -e 's|/usr/local/sbin/|$(SBINDIR)/|g' -e 's|/usr/local/libexec/zonedrop/|$(LIBEXECDIR)/|g' \
  -e 's|/etc/zonedrop/|$(SYSCONFDIR)/zonedrop/|g'
CONF := $(DESTDIR)$(SYSCONFDIR)/zonedrop/zonedrop.yml

install: all
	$(MAKE) --no-print-directory install-only

install-only:
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DOCDIR)/examples \
	  $(DESTDIR)$(SYSCONFDIR)/zonedrop $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(TMPFILESDIR)
	set -e; for p in $(INST_PROGS); do install -m 0755 $(OUT)/$$p $(DESTDIR)$(SBINDIR)/$$p; done
	install -m 0755 $(OUT)/zonedrop.cgi $(DESTDIR)$(LIBEXECDIR)/zonedrop.cgi
	set -e; for m in $(MANS); do s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
	  install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	set -e; for u in $(INST_UNITS); do $(INST_SUBST) $$u > $(DESTDIR)$(SYSTEMDUNITDIR)/$${u#systemd/}.tmp; \
	  chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$${u#systemd/}.tmp; \
	  mv -f $(DESTDIR)$(SYSTEMDUNITDIR)/$${u#systemd/}.tmp $(DESTDIR)$(SYSTEMDUNITDIR)/$${u#systemd/}; done
	install -m 0644 systemd/zonedrop.tmpfiles $(DESTDIR)$(TMPFILESDIR)/zonedrop.conf
	set -e; for f in $(EXAMPLES); do $(INST_SUBST) $$f > $(DESTDIR)$(DOCDIR)/$$f; \
	  chmod 0644 $(DESTDIR)$(DOCDIR)/$$f; done
	@if [ -e $(CONF) ]; then echo "kept $(CONF) (exists; the new example: $(DESTDIR)$(DOCDIR)/examples/zonedrop.yml)"; \
	else $(INST_SUBST) examples/zonedrop.yml > $(CONF).tmp && chmod 0640 $(CONF).tmp && mv $(CONF).tmp $(CONF) \
	  && echo "installed $(CONF)"; fi

# removes what install wrote; zonedrop.yml only while it is still the installed example
uninstall:
	for p in $(filter-out zonedrop.cgi,$(PROGS)); do rm -f $(DESTDIR)$(SBINDIR)/$$p; done
	rm -f $(DESTDIR)$(LIBEXECDIR)/zonedrop.cgi
	for m in $(MANS); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$$(basename $$m); done
	for u in $(wildcard systemd/*.service systemd/*.timer systemd/*.path); do \
	  rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/$${u#systemd/}; done
	rm -f $(DESTDIR)$(TMPFILESDIR)/zonedrop.conf
	for f in $(EXAMPLES); do rm -f $(DESTDIR)$(DOCDIR)/$$f; done
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) $(DESTDIR)$(LIBEXECDIR) 2>/dev/null
	@if [ -e $(CONF) ] && $(INST_SUBST) examples/zonedrop.yml | cmp -s - $(CONF); then \
	  rm -f $(CONF); rmdir $(DESTDIR)$(SYSCONFDIR)/zonedrop 2>/dev/null || true; echo "removed $(CONF) (unchanged)"; \
	elif [ -e $(CONF) ]; then echo "left $(CONF) in place: it was changed"; fi

clean:
	rm -rf build build-asan bin
