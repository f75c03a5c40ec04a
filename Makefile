# Makefile - every entry point of the course. See README.md.
#
#   make course   build, run every chapter at full size, draw every figure, build the book
#   make check    the whole test suite (+ a --quick run of every chapter)
#   make NN / run-NN / step-NN / plots / book / bench / bench-peers / sanitize / clean / deps

BUILD    ?= build
CC       ?= gcc
WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O3 -march=native
# -fno-tree-slp-vectorize: gcc 12.2 at -march=native (AVX-512) miscompiles
# array constants such as {1, 1, 0, 0} into {1, 1, 1, 1} by SLP
# vectorisation (reproduced here); loop vectorisation is unaffected.
# -fno-math-errno: sqrt and friends never set errno, so loops over them vectorise.
# -O3, not -O2: gcc 12's -O2 only vectorises loops that need no remainder loop.
BASEFLAGS = -std=gnu11 $(WARN) -fopenmp -fno-math-errno -fno-tree-slp-vectorize -Ilib $(CFLAGS)
LDLIBS   := -lz -lm
SANFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

# Debian packages, installed by `make deps` (as root) when missing.
DEPS_CHECK  := libcriterion-dev zlib1g-dev pkg-config fortunes dataset-fashion-mnist
DEPS_COURSE := gnuplot-nox graphviz pandoc
DEPS_BENCH  := libopenblas-dev

LIB_SRC   := $(sort $(wildcard lib/*.c))
LIB_HDR   := $(wildcard lib/*.h)
CHAPTERS  := $(sort $(patsubst chapters/%/chapter.c,%,$(wildcard chapters/[0-9][0-9]-*/chapter.c)))
NUMS      := $(foreach c,$(CHAPTERS),$(firstword $(subst -, ,$(c))))
# model files: every .c of a chapter except its notebook (chapter.c); a
# chapter links its own files and the model files of earlier chapters.
MODEL_SRC := $(sort $(filter-out %/chapter.c,$(wildcard chapters/*/*.c)))
TEST_SRC  := $(sort $(wildcard tests/*.c))

.PHONY: all check course valgrind gradcheck-table deps deps-course deps-bench plots book bench bench-peers sanitize clean \
        $(NUMS) $(addprefix run-,$(NUMS)) $(addprefix step-,$(NUMS)) quick unit

all: $(addprefix $(BUILD)/bin/,$(NUMS))

# ---- the library, in two builds ------------------------------------------
$(BUILD)/float/%.o: %.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -c $< -o $@

$(BUILD)/double/%.o: %.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -DREAL_DOUBLE -c $< -o $@

$(BUILD)/san/%.o: %.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -DREAL_DOUBLE -c $< -o $@

$(BUILD)/float/libgen.a: $(LIB_SRC:%.c=$(BUILD)/float/%.o)
	@rm -f $@; ar rcs $@ $^
$(BUILD)/double/libgen.a: $(LIB_SRC:%.c=$(BUILD)/double/%.o)
	@rm -f $@; ar rcs $@ $^

# ---- chapters: build/bin/NN ----------------------------------------------
chapter_dir = $(filter $(1)-%,$(CHAPTERS))
chapter_src = $(wildcard chapters/$(call chapter_dir,$(1))/*.c) \
              $(foreach c,$(CHAPTERS),$(if $(filter 1,$(shell expr "$(firstword $(subst -, ,$(c)))" \< "$(1)")),$(filter chapters/$(c)/%,$(MODEL_SRC))))

define CHAPTER_RULES
$(BUILD)/bin/$(1): $(patsubst %.c,$(BUILD)/float/%.o,$(call chapter_src,$(1))) $(BUILD)/float/libgen.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(BASEFLAGS) $$^ $$(LDLIBS) -o $$@
$(1) run-$(1): $(BUILD)/bin/$(1)
	$(BUILD)/bin/$(1) --out $(BUILD)/run/$(call chapter_dir,$(1))
step-$(1): $(BUILD)/bin/$(1)
	$(BUILD)/bin/$(1) --step --out $(BUILD)/run/$(call chapter_dir,$(1))
endef
$(foreach n,$(NUMS),$(eval $(call CHAPTER_RULES,$(n))))

$(BUILD)/float/chapters/%.o: chapters/%.c $(LIB_HDR) $(wildcard chapters/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -c $< -o $@
$(BUILD)/double/chapters/%.o: chapters/%.c $(LIB_HDR) $(wildcard chapters/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -DREAL_DOUBLE -c $< -o $@

# ---- tests: one Criterion binary, double build -----------------------------
$(BUILD)/test/tests: $(TEST_SRC:%.c=$(BUILD)/double/%.o) $(MODEL_SRC:%.c=$(BUILD)/double/%.o) $(BUILD)/double/libgen.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -DREAL_DOUBLE $^ -lcriterion $(LDLIBS) -o $@

$(BUILD)/double/tests/%.o: tests/%.c $(LIB_HDR) $(wildcard tests/*.h) $(wildcard chapters/*/*.h) book/weave.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -DREAL_DOUBLE -Itests -c $< -o $@

$(BUILD)/san/run-tests: $(TEST_SRC:%.c=$(BUILD)/san/%.o) $(MODEL_SRC:%.c=$(BUILD)/san/%.o) $(LIB_SRC:%.c=$(BUILD)/san/%.o)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -DREAL_DOUBLE $^ -lcriterion $(LDLIBS) -o $@
$(BUILD)/san/tests/%.o: tests/%.c $(LIB_HDR) $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -DREAL_DOUBLE -Itests -c $< -o $@

# chapter 1's table of every op's gradient check, from the double build
$(BUILD)/bin/01-double: $(BUILD)/double/chapters/01-autodiff/chapter.o $(BUILD)/double/libgen.a
	$(CC) $(BASEFLAGS) -DREAL_DOUBLE $^ $(LDLIBS) -o $@
gradcheck-table: $(BUILD)/bin/01-double
	$(BUILD)/bin/01-double --cell 5 --out $(BUILD)/run-double/01-autodiff | sed -n '/every op/,/worst relative/p'

unit: $(BUILD)/test/tests
	OMP_WAIT_POLICY=passive $(BUILD)/test/tests --jobs 2

# every chapter once at tiny sizes: the smoke test
quick: all
	@for n in $(NUMS); do echo "== quick run of chapter $$n"; \
	  $(BUILD)/bin/$$n --quick --out $(BUILD)/quick/$$n > $(BUILD)/quick-$$n.log 2>&1 \
	  || { cat $(BUILD)/quick-$$n.log; echo "chapter $$n --quick failed"; exit 1; }; done
	@echo "== --step pauses after a cell: answering q stops chapter 01 after cell 1"
	@rm -rf $(BUILD)/quick/step && printf 'q\n' | $(BUILD)/bin/01 --step --quick --out $(BUILD)/quick/step > /dev/null
	@test -f $(BUILD)/quick/step/cells/by_hand.txt && test ! -f $(BUILD)/quick/step/cells/on_tape.txt \
	  || { echo "--step did not stop after cell 1"; exit 1; }
	@echo "== a bad flag exits 64"
	@$(BUILD)/bin/01 --no-such-flag 2>/dev/null; test $$? = 64 || { echo "a bad flag did not exit 64"; exit 1; }

check: deps
	$(MAKE) unit
	$(MAKE) quick
	@if [ -f $(BUILD)/book/index.html ]; then $(MAKE) check-book; fi

sanitize: deps $(BUILD)/san/run-tests
	ASAN_OPTIONS=detect_leaks=1 $(BUILD)/san/run-tests --jobs 2

# valgrind cannot run AVX-512, so this build targets AVX2 (x86-64-v3); each
# chapter's --quick run must be free of memory errors and leaks.
VG := valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
      --show-leak-kinds=definite,indirect --quiet
valgrind: deps
	$(MAKE) --no-print-directory BUILD=$(BUILD)/vg CFLAGS="-O1 -g -march=x86-64-v3" all
	@for n in $(NUMS); do echo "== valgrind: chapter $$n --quick"; \
	  OMP_NUM_THREADS=2 $(VG) $(BUILD)/vg/bin/$$n --quick --out $(BUILD)/vg/run/$$n > $(BUILD)/vg/$$n.log || \
	  { echo "valgrind found errors in chapter $$n (log: $(BUILD)/vg/$$n.log)"; exit 1; }; done

# ---- the course ------------------------------------------------------------
course: deps deps-course all
	@for n in $(NUMS); do $(MAKE) --no-print-directory run-$$n || exit 1; done
	$(MAKE) plots
	$(MAKE) book

# ---- benchmarks --------------------------------------------------------------
BENCH_SRC := $(sort $(wildcard bench/*.c))
$(BUILD)/bench/%: bench/%.c $(wildcard bench/*.h) $(BUILD)/float/libgen.a $(patsubst %.c,$(BUILD)/float/%.o,$(MODEL_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(filter %.c %.o,$^) $(filter %.a,$^) -lopenblas $(LDLIBS) -o $@
bench: deps-bench $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
	@$(BUILD)/bench/peak && for b in $(filter-out %/peak,$(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)); do $$b || exit 1; done

# PyTorch on the same four steps, right after ours (bench/peers/): not part of
# make check. torch at 2 threads, its BLAS at 1 (PyTorch's fastest on 2 cores).
# PEERS_FLAGS=--quick: fewer repetitions on both sides.
PEER_BENCHES := bench_gan_ring bench_dcgan bench_vae bench_gpt
bench-peers: $(PEER_BENCHES:%=$(BUILD)/bench/%)
	@if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then \
	  echo "bench-peers: skipped: /usr/bin/python3 has no torch (install Debian's python3-torch)"; exit 0; fi; \
	for b in $(PEER_BENCHES); do echo "== ours: $$b"; \
	  $(BUILD)/bench/$$b $(PEERS_FLAGS) > $(BUILD)/bench/$$b.txt || exit 1; cat $(BUILD)/bench/$$b.txt; done; \
	echo "== PyTorch"; OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peers/peers.py $(PEERS_FLAGS) > $(BUILD)/bench/peers.txt \
	  && cat $(BUILD)/bench/peers.txt && echo "== ours / PyTorch (load average: $$(cut -d' ' -f1-3 /proc/loadavg))" \
	  && python3 bench/peers/compare.py $(BUILD)/bench $(BUILD)/bench/peers.txt

# ---- packages -----------------------------------------------------------------
define INSTALL
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing:$$missing"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null || exit 1; \
	  else echo "missing Debian packages; run: sudo apt-get install$$missing" >&2; exit 1; fi; fi
endef
deps:
	$(call INSTALL,$(DEPS_CHECK))
deps-course:
	$(call INSTALL,$(DEPS_COURSE))
deps-bench:
	$(call INSTALL,$(DEPS_BENCH))

clean:
	rm -rf $(BUILD)

-include plots/plots.mk book/book.mk
