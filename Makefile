# Panacea - top-level build (GNU make).
#
#   make            build lib/util, lib/mail and every program into bin/
#   make run        build, install missing Debian packages, start ./run/
#   make check      format check, build, unit and integration tests (a
#                   skipped integration test fails it), fuzz smoke runs
#   make check-sanitize     the same under ASan + UBSan (build/san):
#                   make check SANITIZE=1, the second CI step
#   make format-check       clang-format --dry-run -Werror, tracked C
#   make WERROR=0   without -Werror (packaging; see INSTALL)
#   make format     apply .clang-format to every C file
#   make install    PREFIX=/usr DESTDIR=...
#   make uninstall  the same PREFIX and DESTDIR; PURGE=1 also removes
#                   /etc/panacea and the queue
#   make man        rewrite man/panacea.conf.5 from lib/mail/conf_params.c
#   make deps       install missing Debian packages (as root)

SANITIZE ?=
PREFIX ?= /usr/local
DESTDIR ?=
PURGE ?=
PYTHON ?= /usr/bin/python3
CC ?= cc

ifeq ($(SANITIZE),1)
BUILD := build/san
BIN := build/san/bin
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
else
BUILD := build/std
BIN := bin
SANFLAGS :=
endif

PKGS := libssl libcrypto libsasl2 ldns libpcre2-8
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# The directory clients (pgsql:, mysql:, ldap: tables) are not linked: a process
# loads one when it opens such a table (lib/mail/map_dl.h says why).  The
# build takes their headers and the soname of the library they belong
# to, so that what is loaded is what was compiled against.
DL_PKGS := libpq ldap libmariadb
DL_CFLAGS := $(shell pkg-config --cflags $(DL_PKGS) 2>/dev/null)
dl_soname = $(shell objdump -p $$($(CC) -print-file-name=lib$(1).so) \
	2>/dev/null | sed -n 's/^ *SONAME *//p')
DL_SONAMES := $(foreach l,pq ldap mariadb,$(if $(call dl_soname,$(l)),\
	-DMAP_SONAME_$(shell echo $(l) | tr a-z A-Z)='"$(call dl_soname,$(l))"'))
PKG_CFLAGS += $(DL_CFLAGS) $(DL_SONAMES)

# Flags.  Ours come first; CPPFLAGS, CFLAGS and LDFLAGS from the
# environment or the command line come last, so a packager's win (Debian:
# eval "$$(dpkg-buildflags --export=sh)"; make).  CFLAGS defaults to
# -O2 -g.  WERROR=0 drops -Werror (a packager's newer compiler may warn
# about what ours does not); development keeps it.
#
# Hardening, for programs that run as root (master, local, pop3d): a
# position-independent executable (ASLR), stack protector, fortified libc
# calls (they need optimisation, so only with -O1 and up), and the GOT
# read-only after relocation with every symbol bound at start.  Under
# SANITIZE=1 ASan checks what _FORTIFY_SOURCE would, and better: no
# fortify there.  The fuzz build (tests/fuzz/fuzz.mk) has its own flags.
CFLAGS ?= -O2 -g
WERROR ?= 1
WARNFLAGS := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror)
HARDEN_CFLAGS := -fstack-protector-strong -fPIE
ifeq ($(SANITIZE)$(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),)
ifneq ($(filter -O -O1 -O2 -O3 -Os -Og -Ofast,$(CFLAGS)),)
HARDEN_CFLAGS += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
endif
# A program links only the libraries it uses: pop3session (root) must not
# map libssl, which it would get through ldns otherwise (DESIGN.md, rule 3).
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,--as-needed
# lib/ is two layers (DESIGN.md, "Programs and folders"): lib/util, the
# generic one, and lib/mail, the mail system's, built on it.  The build
# enforces the direction: lib/util is compiled with its own folder alone
# on the include path, so a util file that includes a mail header does
# not compile.  Everything else sees both; a header is named "x.h".
INCS = -Ilib/mail -Ilib/util
ALL_CFLAGS = -std=c11 $(WARNFLAGS) -D_GNU_SOURCE $(INCS) $(PKG_CFLAGS) \
	$(HARDEN_CFLAGS) $(SANFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(HARDEN_LDFLAGS) $(SANFLAGS) $(LDFLAGS)
DEPFLAGS = -MMD -MP
LDLIBS += $(PKG_LIBS) -ldb-5.3

# Objects depend on the flags they were built with: a change of CFLAGS,
# WERROR or hardening rebuilds them (the stamp changes only then).
FLAGS_STAMP := $(BUILD)/flags
FLAGS_NOW := $(CC) $(ALL_CFLAGS) | $(ALL_LDFLAGS) | $(LDLIBS)
$(shell mkdir -p $(BUILD) && \
	if [ "$$(cat $(FLAGS_STAMP) 2>/dev/null)" != '$(FLAGS_NOW)' ]; then \
		printf '%s\n' '$(FLAGS_NOW)' > $(FLAGS_STAMP); fi)

# Programs: every folder of DESIGN.md that exists; cli/ holds one program
# per file with a main(), and the parts of a larger one in cli/NAME/
# (linked into that program only).
DAEMONS := $(foreach d,master auth smtpd qmgr smtp local pipe pop3d pop3session pickup showq proxymap anvil postscreen,$(if $(wildcard $(d)/*.c),$(d)))
CLI_SRCS := $(shell grep -l '^main' cli/*.c 2>/dev/null)
CLI_PROGS := $(notdir $(CLI_SRCS:.c=))
CLI_SHARED := $(filter-out $(CLI_SRCS),$(wildcard cli/*.c))

# A program's library: every file of its folder but the one with main()
# (build/std/smtpd/libsmtpd.a), so that unit tests (tests/unit/smtpd/)
# and fuzz targets (tests/fuzz/smtpd/) link the program's own code.  cli/
# has one for what its commands share (libcli.a) and one for each
# command's parts (cli/sendmail/ -> libsendmail.a).  A program links its
# main, its library, then lib/mail and lib/util; a folder with nothing
# but main has no library.  PROG_PARTS_x and PROG_LIB_x name them for
# x a daemon, "cli" or a command with parts.
PROG_MAIN = $(shell grep -l '^main' $(1)/*.c 2>/dev/null)
PROG_OWNERS := $(DAEMONS) cli $(foreach p,$(CLI_PROGS),$(if $(wildcard cli/$(p)/*.c),$(p)))
prog_dir = $(if $(filter $(1),$(DAEMONS) cli),$(1),cli/$(1))
$(foreach o,$(PROG_OWNERS),\
	$(eval PROG_DIR_$(o) := $(call prog_dir,$(o)))\
	$(eval PROG_PARTS_$(o) := $(filter-out $(call PROG_MAIN,$(PROG_DIR_$(o))),$(wildcard $(PROG_DIR_$(o))/*.c)))\
	$(eval PROG_LIB_$(o) := $(if $(PROG_PARTS_$(o)),$(BUILD)/$(PROG_DIR_$(o))/lib$(o).a)))

UTIL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard lib/util/*.c))
MAIL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard lib/mail/*.c))
UTIL_LIB := $(BUILD)/lib/util/libutil.a
MAIL_LIB := $(BUILD)/lib/mail/libmail.a
# In link order: a static library after the ones that use it.
LIB := $(MAIL_LIB) $(UTIL_LIB)
$(UTIL_OBJS): INCS = -Ilib/util

FIXTURE_SRCS := $(wildcard tests/fixtures/*.c)
FIXTURES := $(FIXTURE_SRCS:tests/fixtures/%.c=$(BUILD)/tests/bin/%)

# tests/unit/test_*.c test lib/; tests/unit/PROGRAM/test_*.c a program's
# library (PROGRAM a daemon or cli), with its folder on the include path.
UNIT_SRCS := $(wildcard tests/unit/test_*.c) \
	$(foreach o,$(DAEMONS) cli,$(wildcard tests/unit/$(o)/test_*.c))
UNIT_TESTS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)

# lmtp is smtp under another name: the program reads argv[0] (as
# Postfix's smtp and lmtp are one program), so it is a link, not a build.
# virtual is local's the same way (local/virtual.c).
LINKED_DAEMONS := $(if $(filter smtp,$(DAEMONS)),lmtp) \
	$(if $(filter local,$(DAEMONS)),virtual)
PROGS := $(DAEMONS:%=$(BIN)/%) $(LINKED_DAEMONS:%=$(BIN)/%) \
	$(CLI_PROGS:%=$(BIN)/%)

.PHONY: all run check check-sanitize unit integration selfcheck deps format \
	format-check clean install uninstall man man-check
.DELETE_ON_ERROR:
# Keep objects of tests and fixtures between builds.
.SECONDARY:

all: $(PROGS) $(FIXTURES)

# The parameter table against the code (scripts/check_params.py): a name
# that code reads and the table lacks (a misspelling), a typed read of the
# wrong type, or a parameter nobody reads fails the build, before any
# program is linked.
PARAMS_OK := $(BUILD)/params.ok
PARAM_READERS := $(wildcard lib/*/*.c lib/*/*.h cli/*.c cli/*.h cli/*/*.c \
	$(foreach d,$(DAEMONS),$(d)/*.c $(d)/*.h))
$(PARAMS_OK): scripts/check_params.py scripts/conf_macros.py \
	$(PARAM_READERS)
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/check_params.py .
	@touch $@
$(PROGS): | $(PARAMS_OK)

# panacea.conf(5) is generated from the parameter table's doc strings and
# the hand-written man/panacea.conf.5.in by tools/conf_man.c.  The page
# is committed: it reads without a build, install.sh installs man/ as it
# is, and a table change shows its doc in review.  "make man" rewrites
# it; man-check (part of "make unit") fails when it is stale, and when a
# daemon page (man/*.8) lacks one of Postfix's sections or its
# CONFIGURATION PARAMETERS section names a parameter the table lacks or
# misses one its program reads itself (scripts/check_man.py).
CONF_MAN := $(BUILD)/tools/conf_man
$(CONF_MAN): $(BUILD)/tools/conf_man.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

man: $(CONF_MAN)
	$(CONF_MAN) man/panacea.conf.5.in > $(BUILD)/panacea.conf.5
	mv $(BUILD)/panacea.conf.5 man/panacea.conf.5

man-check: $(CONF_MAN)
	@$(CONF_MAN) man/panacea.conf.5.in > $(BUILD)/panacea.conf.5
	@cmp -s $(BUILD)/panacea.conf.5 man/panacea.conf.5 || { \
		diff -u man/panacea.conf.5 $(BUILD)/panacea.conf.5 | head -40; \
		echo "man/panacea.conf.5 disagrees with lib/mail/conf_params.c:" \
		     "run make man"; exit 1; }
	@$(PYTHON) scripts/check_man.py .

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(UTIL_LIB): $(UTIL_OBJS)
$(MAIL_LIB): $(MAIL_OBJS)
$(foreach o,$(PROG_OWNERS),$(if $(PROG_LIB_$(o)),\
	$(eval $(PROG_LIB_$(o)): $(PROG_PARTS_$(o):%.c=$(BUILD)/%.o))))
$(UTIL_LIB) $(MAIL_LIB) $(foreach o,$(PROG_OWNERS),$(PROG_LIB_$(o))):
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

define daemon_rule
$(BIN)/$(1): $(patsubst %.c,$(BUILD)/%.o,$(call PROG_MAIN,$(1))) $(PROG_LIB_$(1)) $(LIB)
	@mkdir -p $(BIN)
	$(CC) $(ALL_LDFLAGS) -o $$@ $$^ $(LDLIBS)
endef
$(foreach d,$(DAEMONS),$(eval $(call daemon_rule,$(d))))
$(BIN)/lmtp: $(BIN)/smtp
	ln -f $< $@
$(BIN)/virtual: $(BIN)/local
	ln -f $< $@

define cli_rule
$(BIN)/$(1): $(BUILD)/cli/$(1).o $(PROG_LIB_$(1)) $(PROG_LIB_cli) $(LIB)
	@mkdir -p $(BIN)
	$(CC) $(ALL_LDFLAGS) -o $$@ $$^ $(LDLIBS)
endef
$(foreach p,$(CLI_PROGS),$(eval $(call cli_rule,$(p))))

# Fixtures are commands of the test suite: they link cli's library (how a
# command opens the queue) and see its headers.
$(BUILD)/tests/fixtures/%.o: INCS += -Icli
$(BUILD)/tests/bin/%: $(BUILD)/tests/fixtures/%.o $(PROG_LIB_cli) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
# pan-milter is a mail filter written against Debian's libmilter
# (libmilter-dev): the filter side the milter tests talk to.
$(BUILD)/tests/bin/pan-milter: LDLIBS += -lmilter -lpthread

# What unit tests share (tests/unit/unit_helpers.c: scratch folders and
# files) is an archive linked into each, so a test takes only what it
# uses; every unit test sees its header.
UNIT_HELPERS_LIB := $(BUILD)/tests/unit/libunit.a
$(UNIT_HELPERS_LIB): $(BUILD)/tests/unit/unit_helpers.o
	rm -f $@
	ar rcs $@ $^
$(BUILD)/tests/unit/%.o: INCS += -Itests/unit

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(UNIT_HELPERS_LIB) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

define unit_rule
$(BUILD)/tests/unit/$(1)/%.o: INCS += -I$(1)
$(BUILD)/tests/unit/$(1)/%: $(BUILD)/tests/unit/$(1)/%.o $(PROG_LIB_$(1)) \
		$(UNIT_HELPERS_LIB) $(LIB)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $$(LDLIBS) -lcmocka
endef
$(foreach o,$(DAEMONS) cli,$(eval $(call unit_rule,$(o))))

deps:
	@sh scripts/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/devrun.sh $(BIN)

# UNIT_JOBS tests run at a time (a sub-make with -j; test_queue alone
# waits seconds on fsync): each one's output is kept in NAME.out and
# printed whole when it ends, so that two never interleave.
UNIT_JOBS ?= 2
# test_queue takes longest by far (about half of the others together): it
# starts first, and the others run beside it.
UNIT_FIRST := $(filter %/test_queue,$(UNIT_TESTS))
UNIT_RUNS := $(patsubst %,%.run,$(UNIT_FIRST) \
	$(filter-out $(UNIT_FIRST),$(UNIT_TESTS)))
.PHONY: $(UNIT_RUNS)
unit: $(UNIT_TESTS) man-check
	@$(MAKE) --no-print-directory -j$(UNIT_JOBS) $(UNIT_RUNS)

$(UNIT_RUNS): %.run: %
	@if $< > $<.out 2>&1; then echo "== $<"; cat $<.out; else \
		echo "== $<"; cat $<.out; echo "unit: $< FAILED"; exit 1; fi

# PANACEA_NO_SKIPS=1 (make check sets it): a test skipped for not being
# root or for a program not built fails the run, listed with its reason;
# a missing package fails its test anyway (tests/integration/conftest.py).
#
# Two passes (tests/integration/conftest.py, SERIAL_MODULES): first the
# modules that may run beside each other, TEST_JOBS test processes at a
# time (pytest-xdist; --dist loadfile keeps a module's tests, and so its
# module-scoped servers, in one process), then the few that must run
# alone.  Most tests wait on daemons and timers rather than compute, so
# two processes take about half the time on two CPUs (TEST_JOBS=1: the
# first pass in one process, without xdist).  The longest modules are
# handed out first (conftest.py, LONGEST_FIRST), so that neither process
# is left alone with a long one at the end.
#
# Each pass's test folders (queues, logs: about 9 GB for the suite) go
# to one fixed place, TEST_TMP, which pytest empties when the next run
# starts and which a passing run removes: pytest's own default keeps the
# last three sessions, and two a run filled the disk of a machine that
# ran the suite a few times.
TEST_JOBS ?= 2
TEST_TMP ?= /tmp/panacea-tests
PYTEST = PANACEA_BIN=$(CURDIR)/$(BIN) \
	PANACEA_FIXTURES=$(CURDIR)/$(BUILD)/tests/bin \
	PANACEA_SANITIZE=$(SANITIZE) PANACEA_NO_SKIPS=$(NO_SKIPS) \
	$(PYTHON) -m pytest -q -p no:cacheprovider
integration: all selfcheck
	mkdir -p $(TEST_TMP)
	$(PYTEST) $(if $(filter-out 1,$(TEST_JOBS)),-n $(TEST_JOBS) --dist loadfile) \
		--basetemp=$(TEST_TMP)/parallel -m "not serial" tests/integration
	rm -rf $(TEST_TMP)/parallel
	$(PYTEST) --basetemp=$(TEST_TMP)/serial -m serial tests/integration
	rm -rf $(TEST_TMP)/serial

# The fuzz targets get a short smoke run here; longer runs are by hand
# (make fuzz-smoke FUZZ_TIME=600).
CHECK_FUZZ_TIME ?= 5

# Every program and module the tests run, one line for each that is
# missing (tests/integration/requirements.py), before any test.
selfcheck:
	@$(PYTHON) tests/integration/requirements.py

# The builds of make check (programs, unit tests, fuzz targets) run
# BUILD_JOBS compilers at a time even when make check itself was started
# without -j, as CI starts it.
BUILD_JOBS ?= 2
check: deps selfcheck format-check
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) all $(UNIT_TESTS)
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration NO_SKIPS=1
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) $(FUZZ_TARGETS)
	@$(MAKE) --no-print-directory fuzz-smoke FUZZ_TIME=$(CHECK_FUZZ_TIME)

# The sanitizer run as a target of its own, for a second CI step.
check-sanitize:
	@$(MAKE) --no-print-directory check SANITIZE=1

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

install: all
	sh scripts/install.sh "$(DESTDIR)" "$(PREFIX)" "$(BIN)"

# What install wrote; PURGE=1 also the configuration and the queue
# (INSTALL, "Uninstall").
uninstall:
	sh scripts/uninstall.sh "$(DESTDIR)" "$(PREFIX)" "$(PURGE)"

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)

# Fuzz targets (tests/fuzz/) keep their rules beside them.
-include tests/fuzz/fuzz.mk
