# ptrace-run: one preload library (agent/ + shim/), one launcher (cli/).
# Out-of-tree build in build/. Knobs: DEBUG=1, ASAN=1 (unit tests only),
# WERROR=1 (set in CI), PREFIX=/usr/local for install.

CC       ?= cc
CXX      ?= c++
PREFIX   ?= /usr/local
B        := build

WARN     := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
            -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN     += -Werror
endif
OPT      := -O2 -g
ifeq ($(DEBUG),1)
OPT      := -O0 -g
endif
CFLAGS_COMMON := -std=gnu11 $(OPT) $(WARN) -D_GNU_SOURCE -MMD -MP -Iagent -Icli

# The agent runs inside the profiled program: hidden symbols, initial-exec
# TLS, no builtins that could turn our own code into allocator calls, and
# never instrumented itself.
AGENT_CFLAGS := $(CFLAGS_COMMON) -fPIC -fvisibility=hidden -ftls-model=initial-exec \
                -fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc \
                -fno-builtin-free -fno-stack-protector -fno-omit-frame-pointer \
                $(shell pkg-config --cflags libunwind 2>/dev/null)
AGENT_LIBS   := -lunwind -ldl -lpthread

SAN :=
ifeq ($(ASAN),1)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
CLI_CFLAGS := $(CFLAGS_COMMON) $(SAN)
CLI_LIBS   := -ldw -lelf -ljansson -lzstd -lz -lstdc++ -lpthread -lm
# The live view (cli/live.c): ncurses from Debian's libncurses-dev.
CLI_LIBS   += $(or $(shell pkg-config --libs ncurses 2>/dev/null),-lncurses -ltinfo)

AGENT_SRC := $(wildcard agent/*.c) $(wildcard shim/*.c)
CLI_SRC   := $(wildcard cli/*.c)
AGENT_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(AGENT_SRC))
CLI_OBJ   := $(patsubst %.c,$(B)/obj/%.o,$(CLI_SRC))
# Objects the unit tests may link: everything but the entry points.
CLI_LIBOBJ   := $(filter-out $(B)/obj/cli/main.o,$(CLI_OBJ))
AGENT_TOBJ   := $(patsubst %.c,$(B)/tobj/%.o,$(wildcard agent/*.c))

LIB := $(B)/libptrace-run.so
BIN := $(B)/ptrace-run

# Test programs: tests/progs/NAME.c -> build/progs/NAME. Names starting
# with fi_ are built with -finstrument-functions; static_ ones with -static.
PROG_C   := $(wildcard tests/progs/*.c)
PROG_CXX := $(wildcard tests/progs/*.cc)
PROGS    := $(patsubst tests/progs/%.c,$(B)/progs/%,$(PROG_C)) \
            $(patsubst tests/progs/%.cc,$(B)/progs/%,$(PROG_CXX))
PROG_CFLAGS := -O0 -g -fno-omit-frame-pointer -fno-inline -Wall -D_GNU_SOURCE -Iinclude

# Every -finstrument-functions program (and the instrumented plugin) is
# built once more per optimizing variant, in build/progs/VARIANT/: inlined
# instrumented callees, sibling calls and clones only happen there. No
# -fno-inline and, but for O2fp, no frame pointer: as a user's release
# build. O2fortify turns longjmp into __longjmp_chk.
CLANG    ?= clang
CLANGXX  ?= clang++
FI_NAMES := $(patsubst tests/progs/%.c,%,$(wildcard tests/progs/fi_*.c)) \
            $(patsubst tests/progs/%.cc,%,$(wildcard tests/progs/fi_*.cc))
FI_VARIANTS := O2 O3 clang O2fp O2fortify
FI_OPT_O2        := -O2
FI_OPT_O3        := -O3
FI_OPT_clang     := -O2
FI_OPT_O2fp      := -O2 -fno-omit-frame-pointer
FI_OPT_O2fortify := -O2 -D_FORTIFY_SOURCE=2
FI_CC_clang      := $(CLANG)
FI_CXX_clang     := $(CLANGXX)
FI_PROGS := $(foreach v,$(FI_VARIANTS),$(addprefix $(B)/progs/$(v)/,$(FI_NAMES) libfiplugin.so))

TEST_SRC := $(wildcard tests/test_*.c)
TESTS    := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))
# Unit tests (not end-to-end) run a second time under ASan and UBSan.
UNIT_SRC := $(filter-out tests/test_e2e_%,$(TEST_SRC))
ASAN_B   := build/asan
ASAN_UNITS := $(patsubst tests/%.c,$(ASAN_B)/tests/%,$(UNIT_SRC))

.PHONY: all deps test unit e2e demo bench install clean format check-format progs tests fuzz
# Keep objects that pattern chains would otherwise delete as intermediate.
.SECONDARY:
all: $(LIB) $(BIN)

deps:
	@scripts/install-deps.sh

$(B)/obj/agent/%.o $(B)/obj/shim/%.o: CFLAGS_X = $(AGENT_CFLAGS)
$(B)/obj/agent/%.o: agent/%.c
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) -c $< -o $@
$(B)/obj/shim/%.o: shim/%.c
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) -c $< -o $@
$(B)/obj/cli/%.o: cli/%.c
	@mkdir -p $(@D)
	$(CC) $(CLI_CFLAGS) -c $< -o $@
# The HTML view's page (cli/html/*.html) as C string literals.
HTML_INC := $(B)/gen/html_head.inc $(B)/gen/html_tail.inc
$(B)/gen/html_%.inc: cli/html/%.html
	@mkdir -p $(@D)
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@
$(B)/obj/cli/render_html_page.o: cli/render_html_page.c $(HTML_INC)
	@mkdir -p $(@D)
	$(CC) $(CLI_CFLAGS) -I$(B)/gen -c $< -o $@
# Agent modules again, for the unit tests (sanitizers allowed there).
$(B)/tobj/agent/%.o: agent/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_COMMON) $(SAN) -DPR_UNIT_TEST -c $< -o $@

$(LIB): $(AGENT_OBJ) shim/exports.map
	$(CC) -shared -Wl,--version-script=shim/exports.map -Wl,-z,nodelete \
	    -o $@ $(AGENT_OBJ) $(AGENT_LIBS)

$(BIN): $(CLI_OBJ)
	$(CC) $(SAN) -o $@ $(CLI_OBJ) $(CLI_LIBS)

$(B)/progs/fi_%: tests/progs/fi_%.c tests/progs/fi_opt.h
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -finstrument-functions -o $@ $< -lpthread -ldl
$(B)/progs/fi_%: tests/progs/fi_%.cc
	@mkdir -p $(@D)
	$(CXX) $(PROG_CFLAGS) -finstrument-functions -o $@ $< -lpthread -ldl
$(B)/progs/static_%: tests/progs/static_%.c
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -static -o $@ $<
$(B)/progs/%: tests/progs/%.c
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< -lpthread -ldl
$(B)/progs/%: tests/progs/%.cc
	@mkdir -p $(@D)
	$(CXX) $(PROG_CFLAGS) -o $@ $< -lpthread -ldl
# <ptrace-run.h> as users build with it: -O2 by gcc, clang and g++ (the
# header must compile warning-free as C and C++), and instrumented.
API_VARIANTS := O2 clang cxx fi
API_PROGS := $(foreach v,$(API_VARIANTS),$(B)/progs/api_$(v)/api_regions)
API_CC_O2    := $(CC) -O2
API_CC_clang := $(CLANG) -O2
API_CC_cxx   := $(CXX) -O2 -x c++
API_CC_fi    := $(CC) -O2 -finstrument-functions
$(B)/progs/api_%/api_regions: tests/progs/api_regions.c include/ptrace-run.h
	@mkdir -p $(@D)
	$(API_CC_$*) -g -Wall -Wextra -Werror -Iinclude -o $@ $<
# The leak check's known answers as users build: gcc -O0 and -O2, clang, g++.
LC_VARIANTS := O0 O2 clang cxx
LC_PROGS := $(foreach v,$(LC_VARIANTS),$(B)/progs/lc_$(v)/leak_classes)
LC_CC_O0    := $(CC) -O0
LC_CC_O2    := $(CC) -O2
LC_CC_clang := $(CLANG) -O2
LC_CC_cxx   := $(CXX) -O2 -x c++
$(B)/progs/lc_%/leak_classes: tests/progs/leak_classes.c
	@mkdir -p $(@D)
	$(LC_CC_$*) -g -Wall -Wextra -o $@ $< -lpthread
# Stack walks of every common shape (tests/test_e2e_unwind.c), as users
# build: gcc -O2 and clang -O2 (and -O0, as every program in tests/progs);
# the C++ one with g++ and clang++.
WALK_VARIANTS := O2 clang
WALK_PROGS := $(foreach v,$(WALK_VARIANTS),$(B)/progs/walk_$(v)/walk_shapes $(B)/progs/walk_$(v)/walk_repeat) \
              $(B)/progs/walk_O2/walk_shapes_cxx $(B)/progs/walk_clang/walk_shapes_cxx
WALK_CC_O2    := $(CC) -O2
WALK_CC_clang := $(CLANG) -O2
WALK_CXX_O2    := $(CXX) -O2
WALK_CXX_clang := $(CLANGXX) -O2
$(B)/progs/walk_%/walk_shapes: tests/progs/walk_shapes.c
	@mkdir -p $(@D)
	$(WALK_CC_$*) -g -Wall -Wextra -o $@ $< -lpthread
$(B)/progs/walk_%/walk_repeat: tests/progs/walk_repeat.c
	@mkdir -p $(@D)
	$(WALK_CC_$*) -g -Wall -Wextra -o $@ $<
$(B)/progs/walk_%/walk_shapes_cxx: tests/progs/walk_shapes_cxx.cc
	@mkdir -p $(@D)
	$(WALK_CXX_$*) -g -Wall -Wextra -o $@ $<
# A plugin for the dlopen tests.
$(B)/progs/lib%.so: tests/progs/plugin/%.c
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -fPIC -shared -o $@ $< -lpthread
$(B)/progs/libfiplugin.so: tests/progs/plugin/fiplugin.c
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -finstrument-functions -fPIC -shared -o $@ $<
# Instrumented libraries for fi_reuse (the shorter stem wins over lib%).
$(B)/progs/libfi_%.so: tests/progs/plugin/fi_%.c
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -finstrument-functions -fPIC -shared -o $@ $<
# Linked against a library of its own, found through RUNPATH $ORIGIN.
$(B)/progs/early_threads: tests/progs/early_threads.c $(B)/progs/libearly.so $(B)/progs/libplugin.so
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< -L$(B)/progs -Wl,--no-as-needed -learly -Wl,--as-needed -Wl,-rpath,'$$ORIGIN' -Wl,--enable-new-dtags -lpthread -ldl
# RTLD_DEEPBIND: exports which() (-rdynamic) and finds libdeep.so through
# its RUNPATH $ORIGIN, by its bare name.
$(B)/progs/deepbind: tests/progs/deepbind.c $(B)/progs/libdeep.so
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -rdynamic -o $@ $< -Wl,-rpath,'$$ORIGIN' -Wl,--enable-new-dtags -ldl
# PLT stubs as IBT makes them (tests/test_symbolize.c): .plt.sec, and the
# lazy stubs in .plt. Debian's crt files carry no IBT property, so ld
# makes that layout only when asked (-z ibtplt).
$(B)/progs/plt_calls_ibt: tests/progs/plt_calls.c
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -fcf-protection -Wl,-z,ibtplt -o $@ $< -lpthread -ldl
PROGS += $(B)/progs/plt_calls_ibt
# A release build with debug info, as a user's: tests/test_e2e_debuginfo.c
# strips it and gives its names back from the separate sources.
$(B)/progs/debuginfo: tests/progs/debuginfo.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -o $@ $<
# A C++ plugin: C programs dlopen it RTLD_LOCAL.
$(B)/progs/lib%.so: tests/progs/plugin/%.cc
	@mkdir -p $(@D)
	$(CXX) $(PROG_CFLAGS) -fPIC -shared -o $@ $<
PLUGINS := $(patsubst tests/progs/plugin/%.c,$(B)/progs/lib%.so,$(wildcard tests/progs/plugin/*.c)) \
           $(patsubst tests/progs/plugin/%.cc,$(B)/progs/lib%.so,$(wildcard tests/progs/plugin/*.cc))

# $(1): variant. Same flags as PROG_CFLAGS but the optimization.
define fi_variant
$(B)/progs/$(1)/fi_%: tests/progs/fi_%.c tests/progs/fi_opt.h
	@mkdir -p $$(@D)
	$$(or $$(FI_CC_$(1)),$$(CC)) $$(FI_OPT_$(1)) -g -Wall -D_GNU_SOURCE -finstrument-functions -o $$@ $$< -lpthread -ldl
$(B)/progs/$(1)/fi_%: tests/progs/fi_%.cc
	@mkdir -p $$(@D)
	$$(or $$(FI_CXX_$(1)),$$(CXX)) $$(FI_OPT_$(1)) -g -Wall -D_GNU_SOURCE -finstrument-functions -o $$@ $$< -lpthread -ldl
$(B)/progs/$(1)/libfiplugin.so: tests/progs/plugin/fiplugin.c
	@mkdir -p $$(@D)
	$$(or $$(FI_CC_$(1)),$$(CC)) $$(FI_OPT_$(1)) -g -Wall -finstrument-functions -fPIC -shared -o $$@ $$<
endef
$(foreach v,$(FI_VARIANTS),$(eval $(call fi_variant,$(v))))

$(B)/tests/test_%: tests/test_%.c tests/testutil.h tests/crfix.h $(AGENT_TOBJ) $(CLI_LIBOBJ)
	@mkdir -p $(@D)
	$(CC) $(CLI_CFLAGS) -DPR_UNIT_TEST -Itests -include tests/crfix.h -o $@ $< $(AGENT_TOBJ) $(CLI_LIBOBJ) \
	    -lcriterion $(CLI_LIBS) -lunwind -lpthread -lm -ldl

# libFuzzer target over the image reader and report builder (clang; the
# launcher's objects again, with the fuzzer's coverage and ASan+UBSan).
# make fuzz runs it briefly from the seed images (part of make test);
# bench/fuzz runs it long. FUZZ_RUNS: executions of the short run.
FUZZ_B      := $(B)/fuzz
FUZZ_RUNS   ?= 20000
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := $(filter-out -O2,$(CFLAGS_COMMON)) -O1 $(FUZZ_SAN)
FUZZ_OBJ    := $(patsubst cli/%.c,$(FUZZ_B)/obj/cli/%.o,$(filter-out cli/main.c,$(CLI_SRC)))
$(FUZZ_B)/obj/cli/%.o: cli/%.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ_B)/obj/cli/render_html_page.o: cli/render_html_page.c $(HTML_INC)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -I$(B)/gen -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ_B)/fuzz_report: tests/fuzz_report.c $(FUZZ_OBJ)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(CLI_LIBS)
$(FUZZ_B)/fuzz_seed: tests/fuzz_seed.c agent/session_format.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_COMMON) -o $@ $<
$(FUZZ_B)/seeds/.made: $(FUZZ_B)/fuzz_seed
	@mkdir -p $(@D)
	$(FUZZ_B)/fuzz_seed $(@D) && touch $@
# The profile file reader (tests/fuzz_profile.c), seeded with a real run's
# symbols and description around the image seeds.
$(FUZZ_B)/fuzz_profile: tests/fuzz_profile.c $(FUZZ_OBJ)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -Icli -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(CLI_LIBS)
$(FUZZ_B)/fuzz_profile_seed: tests/fuzz_profile_seed.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_COMMON) -o $@ $< -lzstd
$(FUZZ_B)/pseeds/.made: $(FUZZ_B)/fuzz_profile_seed $(FUZZ_B)/seeds/.made $(BIN) $(LIB) $(B)/progs/fi_cpu_shares
	@mkdir -p $(@D)
	PTRACE_SAVE_PROFILE=1 $(BIN) -q -p $(@D)/run.ptrace -- $(B)/progs/fi_cpu_shares >/dev/null
	$(FUZZ_B)/fuzz_profile_seed $(@D) $(@D)/run.ptrace $(FUZZ_B)/seeds/*.img && rm -f $(@D)/run.ptrace && touch $@
fuzz: $(FUZZ_B)/fuzz_report $(FUZZ_B)/seeds/.made $(FUZZ_B)/fuzz_profile $(FUZZ_B)/pseeds/.made
	@mkdir -p $(FUZZ_B)/corpus $(FUZZ_B)/pcorpus
	@echo "fuzz: $(FUZZ_RUNS) executions of fuzz_report (seeds in $(FUZZ_B)/seeds)"
	@$(FUZZ_B)/fuzz_report -runs=$(FUZZ_RUNS) -max_len=32768 -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=$(FUZZ_B)/ $(FUZZ_B)/corpus $(FUZZ_B)/seeds 2>$(FUZZ_B)/last.log \
	    || { tail -n 60 $(FUZZ_B)/last.log; echo "fuzz: fuzz_report failed (input saved in $(FUZZ_B)/)" >&2; exit 1; }
	@grep -E '^Done|exec/s' $(FUZZ_B)/last.log | tail -n 1
	@echo "fuzz: $(FUZZ_RUNS) executions of fuzz_profile (seeds in $(FUZZ_B)/pseeds)"
	@$(FUZZ_B)/fuzz_profile -runs=$(FUZZ_RUNS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=$(FUZZ_B)/ $(FUZZ_B)/pcorpus $(FUZZ_B)/pseeds 2>$(FUZZ_B)/last-profile.log \
	    || { tail -n 60 $(FUZZ_B)/last-profile.log; echo "fuzz: fuzz_profile failed (input saved in $(FUZZ_B)/)" >&2; exit 1; }
	@grep -E '^Done|exec/s' $(FUZZ_B)/last-profile.log | tail -n 1

# make test: install what is missing, build, run every test binary, then
# the short fuzz run. Fails when a test fails, when no test ran at all, or
# when the fuzzer finds a crash.
test: deps
	@$(MAKE) --no-print-directory WERROR=$(or $(WERROR),1) all progs tests
	@$(MAKE) --no-print-directory B=$(ASAN_B) ASAN=1 WERROR=$(or $(WERROR),1) $(ASAN_UNITS)
	@scripts/run-tests.sh $(TESTS) $(ASAN_UNITS)
	@$(MAKE) --no-print-directory WERROR=$(or $(WERROR),1) fuzz

progs: $(PROGS) $(PLUGINS) $(FI_PROGS) $(API_PROGS) $(LC_PROGS) $(WALK_PROGS)
tests: $(TESTS)

demo: deps
	@$(MAKE) --no-print-directory all $(B)/progs/demo_leak
	$(BIN) $(B)/progs/demo_leak

bench: deps
	@scripts/install-deps.sh --bench
	@$(MAKE) --no-print-directory all
	bench/run

# <ptrace-run.h> and its pkg-config file: --cflags finds the header,
# --libs is empty (the program links nothing: docs/api.md).
install: all
	@mkdir -p $(B)
	printf 'prefix=%s\nincludedir=$${prefix}/include\n\nName: ptrace-run\nDescription: regions, pause/resume, reset and snapshots for programs profiled by ptrace-run\nVersion: %s\nCflags: -I$${includedir}\nLibs:\n' \
		'$(PREFIX)' "$$(sed -n 's/^#define PTRACE_VERSION "\(.*\)"/\1/p' cli/render.h)" >$(B)/ptrace-run.pc
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/ptrace-run $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/ptrace-run
	install -m 755 $(LIB) $(DESTDIR)$(PREFIX)/lib/ptrace-run/libptrace-run.so
	install -m 644 include/ptrace-run.h $(DESTDIR)$(PREFIX)/include/ptrace-run.h
	install -m 644 $(B)/ptrace-run.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/ptrace-run.pc

format:
	clang-format -i agent/*.[ch] shim/*.[ch] cli/*.[ch] tests/*.[ch]

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
