# tests/fuzz/fuzz.mk - libFuzzer targets, included by the top-level Makefile.
#
#   make fuzz         build every tests/fuzz/fuzz_NAME.c into
#                     build/fuzz/fuzz_NAME, tests/fuzz/PROGRAM/fuzz_NAME.c
#                     into build/fuzz/PROGRAM/fuzz_NAME
#   make fuzz-smoke   run each for FUZZ_TIME seconds (default 10); fails on
#                     any crash, leak, sanitizer report or hang
#
# lib/util/*.c and lib/mail/*.c are compiled again with clang and coverage
# instrumentation into build/fuzz/lib/ and archived, so a target links
# only the lib/ modules it uses.  A target of a program's code lives in
# tests/fuzz/PROGRAM/ (PROGRAM a daemon or cli, as tests/unit/PROGRAM/)
# and links that program's library (the Makefile's PROG_PARTS_PROGRAM:
# its files but main) built the same way into build/fuzz/PROGRAM/.  New
# targets need no change here: any tests/fuzz/fuzz_NAME.c or
# tests/fuzz/PROGRAM/fuzz_NAME.c is picked up.  A seed corpus, when present, is
# read from tests/fuzz/corpus/NAME/; what the fuzzer finds is kept in
# build/fuzz/corpus/NAME/ and crash inputs in build/fuzz/NAME-crash-*.
# A longer run by hand: build/fuzz/fuzz_attr build/fuzz/corpus/fuzz_attr
#
#   make fuzz FUZZ_SECONDS=3600 [FUZZ_ONLY="fuzz_attr fuzz_dns"]
#                     the long run (an hour a target, outside CI): each
#                     target (or those named) that long on its grown
#                     corpus, then what it found that adds coverage is
#                     merged into tests/fuzz/corpus/NAME (libFuzzer's
#                     -merge=1 keeps the seed set small), which make
#                     check's smoke run replays: commit it.

FUZZ_CC ?= clang
FUZZ_DIR := build/fuzz
FUZZ_TIME ?= 10
FUZZ_PKGS := libssl libcrypto libsasl2 ldns libpcre2-8
FUZZ_CFLAGS := -std=c11 -g -O1 -D_GNU_SOURCE -Ilib/mail -Ilib/util \
	$(shell pkg-config --cflags libpq ldap libmariadb 2>/dev/null) \
	$(shell pkg-config --cflags $(FUZZ_PKGS) 2>/dev/null)
FUZZ_SAN := address,undefined
FUZZ_LIBS := $(shell pkg-config --libs $(FUZZ_PKGS) 2>/dev/null) -ldb-5.3

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_PROGS := $(foreach o,$(DAEMONS) cli,\
	$(if $(wildcard tests/fuzz/$(o)/fuzz_*.c),$(o)))
FUZZ_TARGETS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_DIR)/%) \
	$(foreach o,$(FUZZ_PROGS),$(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,\
		$(wildcard tests/fuzz/$(o)/fuzz_*.c)))
FUZZ_LIB_OBJS := $(patsubst lib/%.c,$(FUZZ_DIR)/lib/%.o,\
	$(wildcard lib/util/*.c lib/mail/*.c))
FUZZ_LIB := $(FUZZ_DIR)/libpanacea.a

.PHONY: fuzz fuzz-smoke fuzz-long

fuzz: $(FUZZ_TARGETS)
ifneq ($(FUZZ_SECONDS),)
	@$(MAKE) --no-print-directory fuzz-long
endif

$(FUZZ_LIB_OBJS): $(FUZZ_DIR)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) \
		-MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_DIR)/%): $(FUZZ_DIR)/%: tests/fuzz/%.c \
		$(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) -MMD -MP \
		-o $@ $< $(FUZZ_LIB) $(FUZZ_LIBS)

# A program's library and its targets, for each program with a target.
define fuzz_prog_rule
$(FUZZ_DIR)/$(1)/%.o: $(1)/%.c
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$$(FUZZ_SAN) \
		-MMD -MP -c -o $$@ $$<

$(FUZZ_DIR)/$(1)/lib$(1).a: $(PROG_PARTS_$(1):$(1)/%.c=$(FUZZ_DIR)/$(1)/%.o)
	rm -f $$@
	ar rcs $$@ $$^

$(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(wildcard tests/fuzz/$(1)/fuzz_*.c)): \
		$(FUZZ_DIR)/$(1)/%: tests/fuzz/$(1)/%.c \
		$(FUZZ_DIR)/$(1)/lib$(1).a $(FUZZ_LIB)
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -I$(1) -fsanitize=fuzzer,$$(FUZZ_SAN) \
		-MMD -MP -o $$@ $$< $(FUZZ_DIR)/$(1)/lib$(1).a $$(FUZZ_LIB) \
		$$(FUZZ_LIBS)
endef
$(foreach o,$(FUZZ_PROGS),$(eval $(call fuzz_prog_rule,$(o))))

# Each target's output goes to build/fuzz/NAME.log; on failure its tail is
# shown.  -timeout makes a hang a failure instead of a stalled run.
# FUZZ_JOBS targets run at a time (a sub-make with -j): each is one
# single-threaded process, so make check's smoke takes half as long on
# two CPUs; a target's lines are printed together when it ends.
FUZZ_JOBS ?= 2
FUZZ_SMOKES := $(FUZZ_TARGETS:%=%.smoke)
.PHONY: $(FUZZ_SMOKES)

fuzz-smoke: $(FUZZ_TARGETS)
	@$(MAKE) --no-print-directory -j$(FUZZ_JOBS) $(FUZZ_SMOKES)

$(FUZZ_SMOKES): %.smoke: %
	@t=$<; n=$${t##*/}; corpus=$(FUZZ_DIR)/corpus/$$n; seeds=; \
	mkdir -p $$corpus; \
	if [ -d tests/fuzz/corpus/$$n ]; then \
		seeds=tests/fuzz/corpus/$$n; fi; \
	if ! $$t -max_total_time=$(FUZZ_TIME) -timeout=10 \
		-artifact_prefix=$(FUZZ_DIR)/$$n- $$corpus $$seeds \
		>$(FUZZ_DIR)/$$n.log 2>&1; then \
		{ echo "== $$n ($(FUZZ_TIME)s)"; tail -n 40 $(FUZZ_DIR)/$$n.log; \
		  echo "fuzz-smoke: $$n FAILED (log: $(FUZZ_DIR)/$$n.log)"; }; \
		exit 1; \
	fi; \
	printf '== %s (%ss)\n%s\n' $$n $(FUZZ_TIME) "$$(tail -n 1 $(FUZZ_DIR)/$$n.log)"

fuzz-long: $(FUZZ_TARGETS)
	@set -e; for t in $(FUZZ_TARGETS); do \
		n=$${t##*/}; \
		case " $(FUZZ_ONLY) " in \
		"  "|*" $$n "*) ;; \
		*) continue ;; \
		esac; \
		corpus=$(FUZZ_DIR)/corpus/$$n; seeds=tests/fuzz/corpus/$$n; \
		mkdir -p $$corpus $$seeds; \
		echo "== $$n ($(FUZZ_SECONDS)s)"; \
		if ! $$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-artifact_prefix=$(FUZZ_DIR)/$$n- $$corpus $$seeds \
			>$(FUZZ_DIR)/$$n.long.log 2>&1; then \
			tail -n 40 $(FUZZ_DIR)/$$n.long.log; \
			echo "fuzz: $$n FAILED (log: $(FUZZ_DIR)/$$n.long.log)"; \
			exit 1; \
		fi; \
		tail -n 1 $(FUZZ_DIR)/$$n.long.log; \
		$$t -merge=1 $$seeds $$corpus >$(FUZZ_DIR)/$$n.merge.log 2>&1; \
		echo "   tests/fuzz/corpus/$$n: $$(ls $$seeds | wc -l) inputs"; \
	done
