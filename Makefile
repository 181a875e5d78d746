# Escort build.  `make` builds bin/; `make check` runs every test (also under
# ASan+UBSan); `make bench` runs the benchmarks; `make install` honours
# PREFIX and DESTDIR.  Each program folder contributes a module.mk fragment.

PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
PKGS     := libssh libuv libcrypto libssl libzstd vterm hiredis

# SAN=1 builds everything with AddressSanitizer + UndefinedBehaviorSanitizer
# into build/san; the default build goes to build/release and bin/.
ifeq ($(SAN),1)
BUILD    := build/san
BINDIR   := build/san/bin
OPTFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
SANLD    := -fsanitize=address,undefined
else
BUILD    := build/release
BINDIR   := bin
OPTFLAGS := -O2 -g
SANLD    :=
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

CPPFLAGS += -I. -D_GNU_SOURCE -DESCORT_VERSION='"$(VERSION)"'
CFLAGS   += -std=gnu17 -Wall -Wextra -Werror -pthread $(OPTFLAGS) $(PKG_CFLAGS) -MMD -MP
LDFLAGS  += -pthread $(SANLD)
LDLIBS   += $(PKG_LIBS) -lm

VERSION  := 0.1.0

PROGRAMS   :=
LIBS       :=
UNIT_TESTS :=
FUZZERS    :=
BENCHES    :=

# ---- helpers for the module.mk fragments ------------------------------------
# $(call lib_rule,NAME,SOURCES): $(BUILD)/libNAME.a from SOURCES, added to LIBS.
define lib_rule
LIBS += $(BUILD)/lib$(1).a
$(BUILD)/lib$(1).a: $(patsubst %.c,$(BUILD)/obj/%.o,$(2))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
endef

# $(call program,NAME,OBJECTS-AND-LIBS): $(BINDIR)/NAME, added to PROGRAMS.
define program
PROGRAMS += $(BINDIR)/$(1)
$(BINDIR)/$(1): $(2)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef

# $(call unit_test,NAME,LIBS): $(BUILD)/tests/NAME from tests/unit/NAME.c (cmocka).
define unit_test
UNIT_TESTS += $(BUILD)/tests/$(1)
$(BUILD)/tests/$(1): $(BUILD)/obj/tests/unit/$(1).o $(2)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS) $$(CMOCKA_LIBS)
endef

# $(call fuzz_target,NAME,SOURCES): build/fuzz/NAME from tests/fuzz/NAME.c plus
# the library SOURCES, compiled by clang with libFuzzer + ASan + UBSan.  Each
# source is compiled once into build/fuzz/obj/ and shared by every fuzzer
# that links it.
FUZZ_CC     := clang
FUZZ_SAN    := address,undefined
FUZZ_CFLAGS := -std=gnu17 -g -O1 -I. -D_GNU_SOURCE -DESCORT_FUZZING $(PKG_CFLAGS)
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -MMD -MP -c -o $@ $<
define fuzz_target
FUZZERS += build/fuzz/$(1)
build/fuzz/$(1): $(patsubst %.c,build/fuzz/obj/%.o,tests/fuzz/$(1).c $(2))
	@mkdir -p build/fuzz
	$(FUZZ_CC) -fsanitize=fuzzer,$(FUZZ_SAN) -o $$@ $$^ $(PKG_LIBS) -lm
endef

all: programs

# Fragments append to PROGRAMS, UNIT_TESTS, FUZZERS, BENCHES and add link rules.
include $(wildcard common/module.mk recorder/module.mk policy/module.mk proxy/module.mk replay/module.mk tests/module.mk)

programs: $(PROGRAMS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

unit-tests: $(UNIT_TESTS)
fuzzers: $(FUZZERS)
benches: $(BENCHES) programs

check: 
	bash scripts/check.sh

# Each library exports only the names its NAME.sym lists, or internal ones
# (pol__*, ...), and references none of the names its list forbids:
# tests/tools/check_symbols.py, first on archives it builds to show that it
# fails where it must.  An archive no module builds any more (left by an
# older tree, such as libescort-recorder.a) is removed first.
check-symbols: $(LIBS)
	@for a in $(BUILD)/libescort-*.a; do [ -e "$$a" ] || continue; \
	    case " $^ " in *" $$a "*) ;; *) rm -f "$$a"; \
	    echo "check-symbols: removed $$a, which no module builds";; esac; done
	python3 tests/tools/check_symbols.py --self-test
	python3 tests/tools/check_symbols.py $(BUILD)

bench: programs benches tools
	bash tests/bench/run.sh

# make install: the layout of a distribution package.  The daemons go to
# sbin, the tools to bin; systemd units, sysusers.d and tmpfiles.d entries;
# the example configurations to the documentation and, only where no file
# of that name exists yet, to $(SYSCONFDIR)/escort (an admin's file is never
# overwritten).  SYSCONFDIR is /etc whatever the PREFIX: the daemons' and
# the examples' paths are /etc/escort/...  Nothing is built here: run make first (make install
# depends on the programs only so that a stale tree is noticed).
SBINDIR        ?= $(PREFIX)/sbin
SYSCONFDIR     ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR    ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR    ?= $(PREFIX)/lib/tmpfiles.d
DOCDIR         ?= $(PREFIX)/share/doc/escort
DAEMONS        := escort-proxy escort-recorder
TOOLS          := escort-replay escort-policy
EXAMPLES       := recorder.conf proxy.conf policy.conf
UNITS          := escort-recorder.service escort-proxy.service

install: programs
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(SYSTEMDUNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	    $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(SYSCONFDIR)/escort
	install -m 755 $(addprefix $(BINDIR)/,$(DAEMONS)) $(DESTDIR)$(SBINDIR)/
	install -m 755 $(addprefix $(BINDIR)/,$(TOOLS)) $(DESTDIR)$(PREFIX)/bin/
	for p in man/*.[158]; do [ -e "$$p" ] || continue; \
	    s=$${p##*.}; install -m 644 "$$p" $(DESTDIR)$(PREFIX)/share/man/man$$s/; done
	for u in $(UNITS); do \
	    sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	        dist/systemd/$$u.in > $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp && \
	    chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp && \
	    mv $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; done
	install -m 644 dist/sysusers.d/escort.conf $(DESTDIR)$(SYSUSERSDIR)/escort.conf
	install -m 644 dist/tmpfiles.d/escort.conf $(DESTDIR)$(TMPFILESDIR)/escort.conf
	for e in $(EXAMPLES); do \
	    install -m 644 dist/examples/$$e $(DESTDIR)$(DOCDIR)/examples/$$e || exit 1; \
	    if [ -e $(DESTDIR)$(SYSCONFDIR)/escort/$$e ]; then \
	        echo "install: $(DESTDIR)$(SYSCONFDIR)/escort/$$e exists, left as it is"; \
	    else install -m 644 dist/examples/$$e $(DESTDIR)$(SYSCONFDIR)/escort/$$e || exit 1; fi; \
	done

# Removes what install wrote, except the files under $(SYSCONFDIR)/escort
# (the admin's, possibly edited) and the users and directories the
# sysusers.d and tmpfiles.d entries created.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(DAEMONS)) \
	    $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(TOOLS)) \
	    $(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(UNITS)) \
	    $(DESTDIR)$(SYSUSERSDIR)/escort.conf $(DESTDIR)$(TMPFILESDIR)/escort.conf \
	    $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(EXAMPLES))
	for p in man/*.[158]; do [ -e "$$p" ] || continue; \
	    s=$${p##*.}; rm -f $(DESTDIR)$(PREFIX)/share/man/man$$s/$${p#man/}; done
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf build bin

.PHONY: all programs unit-tests fuzzers benches check check-symbols bench install uninstall clean

-include $(shell find build -name '*.d' 2>/dev/null)
