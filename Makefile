# Makefile - every entry point of the course. See README.md.
#
#   make course   build, run every chapter at full size, draw every figure, build the book
#   make check    the whole test suite (+ a --quick run of every chapter)
#   make NN / run-NN / step-NN / plots / book / bench / bench-peers / sanitize / fuzz / clean / deps
#   make check-vlibm   lib/vlibm.c against libm on all 2^32 floats (minutes; not in make check)

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
DEPS_CHECK  := libcriterion-dev zlib1g-dev pkg-config fortunes dataset-fashion-mnist libopenmpi-dev openmpi-bin
DEPS_COURSE := gnuplot-nox graphviz pandoc
DEPS_BENCH  := libopenblas-dev
DEPS_FUZZ   := clang libclang-rt-14-dev libomp-14-dev

LIB_SRC   := $(sort $(wildcard lib/*.c))
LIB_HDR   := $(wildcard lib/*.h)
CHAPTERS  := $(sort $(patsubst chapters/%/chapter.c,%,$(wildcard chapters/[0-9][0-9]-*/chapter.c)))
NUMS      := $(foreach c,$(CHAPTERS),$(firstword $(subst -, ,$(c))))
# model files: every .c of a chapter except its notebook (chapter.c). A
# chapter links its own files and the model files of the chapters it names
# in its `deps` file (one directory name per line), and sees their headers
# through -I; nothing else.
MODEL_SRC := $(sort $(filter-out %/chapter.c,$(wildcard chapters/*/*.c)))
CHAPTER_HDR := $(wildcard chapters/*/*.h)
# deps of the chapter directory $(1) (chapters/NN-name), and their -I flags
dir_deps   = $(strip $(shell cat $(1)/deps 2>/dev/null))
# the deps a list file $(1) (bench/deps, tests/deps: lines "<program> <chapter dir> ...")
# names for program $(2), and the -I flags of chapter directories $(1)
listed_deps = $(strip $(shell awk '$$1 == "$(2)" { $$1 = ""; print }' $(1) 2>/dev/null))
deps_inc    = $(foreach d,$(1),-Ichapters/$(d))
dir_inc     = $(call deps_inc,$(call dir_deps,$(1)))
# the objects of chapter directories $(1)'s model files in build $(2); dir_objs
# also for chapter 7's (MPI) files, which only its own programs link
model_objs = $(foreach d,$(1),$(patsubst %.c,$(BUILD)/$(2)/%.o,$(filter chapters/$(d)/%,$(MODEL_SRC))))
dir_objs   = $(patsubst %.c,$(BUILD)/$(2)/%.o,$(filter-out %/chapter.c,$(wildcard chapters/$(1)/*.c)))

# ---- chapter 7: MPI (its files include mpi.h) ----------------------------------
# They build with mpicc and link only into build/bin/07 and build/test/dp (the
# MPI tests, tests/mpi/); the chapter runs under mpirun with 2 ranks, one
# thread each unless OMP_NUM_THREADS says otherwise. As root, mpirun needs
# --allow-run-as-root; --oversubscribe lets 2 ranks start on 1 core.
MPICC     ?= mpicc
MPI_NUMS  := 07
MPI_DIRS  := chapters/07-gpt-data-parallel tests/mpi
MPIRUN    := mpirun --oversubscribe $(if $(filter 0,$(shell id -u)),--allow-run-as-root)
MPIRUN_2   = $(MPIRUN) -np 2 -x OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1}
launch     = $(if $(filter $(1),$(MPI_NUMS)),$(MPIRUN_2))
MODEL_SRC := $(filter-out $(addsuffix /%,$(MPI_DIRS)),$(MODEL_SRC))
$(foreach d,$(MPI_DIRS),$(eval $(BUILD)/float/$(d)/%.o $(BUILD)/double/$(d)/%.o: private CC = $(MPICC)))
$(BUILD)/bin/07: private CC = $(MPICC)
$(BUILD)/test/dp: $(BUILD)/double/tests/mpi/test_dp.o \
                  $(foreach d,$(call listed_deps,tests/deps,mpi/test_dp),$(call dir_objs,$(d),double)) \
                  $(BUILD)/double/libgen.a
	@mkdir -p $(dir $@)
	$(MPICC) $(BASEFLAGS) -DREAL_DOUBLE $^ $(LDLIBS) -o $@
# the MPI tests: 2 ranks against 1 (double build), then the chapter's errors end every rank
check-dp: $(BUILD)/test/dp $(BUILD)/bin/07
	$(MPIRUN_2) $(BUILD)/test/dp
	MPIRUN="$(MPIRUN)" tests/mpi/errors.sh $(BUILD)/bin/07 $(BUILD)/check-dp
TEST_SRC  := $(sort $(wildcard tests/*.c))
# a test file sees and links the model files of the chapters tests/deps names
# for it (lines "test_gpt 05-gpt-cross-entropy"), nothing else; the test
# program links the union of them.
test_deps  = $(call listed_deps,tests/deps,$(1))
TEST_MODEL_DIRS := $(sort $(foreach t,$(TEST_SRC:tests/%.c=%),$(call test_deps,$(t))))
# what a test object may include: the library, the test helpers, the models'
# headers, the weaver (test_weave.c includes book/weave.c) and the fuzz
# harnesses (test_fuzz_regress.c includes them); the same list for the
# double build and the sanitizer build.
TEST_DEPS := $(LIB_HDR) $(wildcard tests/*.h) tests/deps $(CHAPTER_HDR) book/weave.c $(wildcard fuzz/*.[ch])

.PHONY: all check check-vlibm course valgrind gradcheck-table deps deps-course deps-bench deps-fuzz plots book bench bench-peers sanitize fuzz clean \
        $(NUMS) $(addprefix run-,$(NUMS)) $(addprefix step-,$(NUMS)) quick unit check-dp

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
chapter_src = $(wildcard chapters/$(call chapter_dir,$(1))/*.c)

define CHAPTER_RULES
$(BUILD)/bin/$(1): $(patsubst %.c,$(BUILD)/float/%.o,$(call chapter_src,$(1))) \
                   $(call model_objs,$(call dir_deps,chapters/$(call chapter_dir,$(1))),float) $(BUILD)/float/libgen.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(BASEFLAGS) $$^ $$(LDLIBS) -o $$@
$(1) run-$(1): $(BUILD)/bin/$(1)
	$$(call launch,$(1)) $(BUILD)/bin/$(1) --out $(BUILD)/run/$(call chapter_dir,$(1))
step-$(1): $(BUILD)/bin/$(1)
	$$(call launch,$(1)) $(BUILD)/bin/$(1) --step --out $(BUILD)/run/$(call chapter_dir,$(1))
endef
$(foreach n,$(NUMS),$(eval $(call CHAPTER_RULES,$(n))))

$(BUILD)/float/chapters/%.o: chapters/%.c $(LIB_HDR) $(CHAPTER_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(call dir_inc,$(<D)) -c $< -o $@
$(BUILD)/double/chapters/%.o: chapters/%.c $(LIB_HDR) $(CHAPTER_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -DREAL_DOUBLE $(call dir_inc,$(<D)) -c $< -o $@
$(BUILD)/san/chapters/%.o: chapters/%.c $(LIB_HDR) $(CHAPTER_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -DREAL_DOUBLE $(call dir_inc,$(<D)) -c $< -o $@

# ---- tests: one Criterion binary, double build -----------------------------
$(BUILD)/test/tests: $(TEST_SRC:%.c=$(BUILD)/double/%.o) $(call model_objs,$(TEST_MODEL_DIRS),double) $(BUILD)/double/libgen.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -DREAL_DOUBLE $^ -lcriterion $(LDLIBS) -o $@

$(BUILD)/double/tests/%.o: tests/%.c $(TEST_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -DREAL_DOUBLE -Itests $(call deps_inc,$(call test_deps,$*)) -c $< -o $@

$(BUILD)/san/run-tests: $(TEST_SRC:%.c=$(BUILD)/san/%.o) $(call model_objs,$(TEST_MODEL_DIRS),san) $(LIB_SRC:%.c=$(BUILD)/san/%.o)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -DREAL_DOUBLE $^ -lcriterion $(LDLIBS) -o $@
$(BUILD)/san/tests/%.o: tests/%.c $(TEST_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -DREAL_DOUBLE -Itests $(call deps_inc,$(call test_deps,$*)) -c $< -o $@

# chapter 1's table of every op's gradient check, from the double build
$(BUILD)/bin/01-double: $(BUILD)/double/chapters/01-autodiff/chapter.o $(BUILD)/double/libgen.a
	$(CC) $(BASEFLAGS) -DREAL_DOUBLE $^ $(LDLIBS) -o $@
gradcheck-table: $(BUILD)/bin/01-double
	$(BUILD)/bin/01-double --cell 5 --out $(BUILD)/run-double/01-autodiff | sed -n '/every op/,/worst relative/p'

unit: $(BUILD)/test/tests
	OMP_WAIT_POLICY=passive $(BUILD)/test/tests --jobs 2

# lib/vlibm.c against libm on every one of the 2^32 floats (about 2 minutes
# on 2 cores; make check runs the sampled test in tests/test_vlibm.c)
$(BUILD)/test/vlibm_all: tests/exhaustive/vlibm_all.c $(BUILD)/float/lib/vlibm.o
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $^ $(LDLIBS) -o $@
check-vlibm: $(BUILD)/test/vlibm_all
	$(BUILD)/test/vlibm_all

# every chapter at tiny sizes: the smoke test. Each runs twice, with 2
# threads and with 1: the two records (cell outputs, metrics.tsv, figure
# data; everything but timing.tsv) must be byte-identical.
quick: all
	@for n in $(NUMS); do echo "== quick run of chapter $$n (2 threads, then 1: the records must match)"; \
	  rm -rf $(BUILD)/quick/$$n $(BUILD)/quick-1t/$$n; \
	  case $$n in $(subst $(eval) ,|,$(MPI_NUMS))) L="$(MPIRUN_2)";; *) L=;; esac; \
	  OMP_NUM_THREADS=2 $$L $(BUILD)/bin/$$n --quick --out $(BUILD)/quick/$$n > $(BUILD)/quick-$$n.log 2>&1 \
	  || { cat $(BUILD)/quick-$$n.log; echo "chapter $$n --quick failed"; exit 1; }; \
	  OMP_NUM_THREADS=1 $$L $(BUILD)/bin/$$n --quick --out $(BUILD)/quick-1t/$$n > $(BUILD)/quick-1t-$$n.log 2>&1 \
	  || { cat $(BUILD)/quick-1t-$$n.log; echo "chapter $$n --quick (1 thread) failed"; exit 1; }; \
	  diff -r -x timing.tsv $(BUILD)/quick/$$n $(BUILD)/quick-1t/$$n > $(BUILD)/quick-$$n.diff \
	  || { head -n 40 $(BUILD)/quick-$$n.diff; echo "chapter $$n: two runs with one seed wrote different records" \
	       "(above; full diff in $(BUILD)/quick-$$n.diff). Machine-dependent figures belong in nb_timing."; exit 1; }; \
	done
	@echo "== --step pauses after a cell: answering q stops chapter 01 after cell 1"
	@rm -rf $(BUILD)/quick/step && printf 'q\n' | $(BUILD)/bin/01 --step --quick --out $(BUILD)/quick/step > /dev/null
	@test -f $(BUILD)/quick/step/cells/by_hand.txt && test ! -f $(BUILD)/quick/step/cells/on_tape.txt \
	  || { echo "--step did not stop after cell 1"; exit 1; }
	@echo "== a bad flag exits 64, and so does a setting the chapter does not have"
	@$(BUILD)/bin/01 --no-such-flag 2>/dev/null; test $$? = 64 || { echo "a bad flag did not exit 64"; exit 1; }
	@$(BUILD)/bin/01 --set no-such-setting=1 2>/dev/null; test $$? = 64 || { echo "a bad --set did not exit 64"; exit 1; }

check: deps
	$(MAKE) unit
	sh tests/course-time.sh
	$(MAKE) quick
	$(MAKE) check-dp
	$(MAKE) check-exercises
	@if [ -f $(BUILD)/book/index.html ]; then $(MAKE) check-book; fi

# make sanitize: the unit tests, then every chapter's --quick (on the
# installed data, and the data-using ones on deliberately small sets, where
# they must stop with exit 65), all under ASan + UBSan; see
# fuzz/sanitize-chapters.sh and fuzz/small-data.sh.
SAN_CHAPTERS := $(BUILD)/san-chapters
sanitize: deps $(BUILD)/san/run-tests
	ASAN_OPTIONS=detect_leaks=1 $(BUILD)/san/run-tests --jobs 2
	$(MAKE) --no-print-directory BUILD=$(SAN_CHAPTERS) CFLAGS="$(SANFLAGS) -march=native" all
	sh fuzz/small-data.sh $(SAN_CHAPTERS)/data
	sh fuzz/sanitize-chapters.sh $(SAN_CHAPTERS) $(SAN_CHAPTERS)/data $(NUMS)

# valgrind cannot run AVX-512, so this build targets AVX2 (x86-64-v3); each
# chapter's --quick run must be free of memory errors and leaks.
VG := valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
      --show-leak-kinds=definite,indirect --quiet
valgrind: deps
	$(MAKE) --no-print-directory BUILD=$(BUILD)/vg CFLAGS="-O1 -g -march=x86-64-v3" all
	@for n in $(NUMS); do echo "== valgrind: chapter $$n --quick"; \
	  case $$n in $(subst $(eval) ,|,$(MPI_NUMS))) S="--suppressions=tests/mpi/openmpi.supp --num-callers=40";; *) S=;; esac; \
	  OMP_NUM_THREADS=2 $(VG) $$S $(BUILD)/vg/bin/$$n --quick --out $(BUILD)/vg/run/$$n > $(BUILD)/vg/$$n.log || \
	  { echo "valgrind found errors in chapter $$n (log: $(BUILD)/vg/$$n.log)"; exit 1; }; done

# ---- the course ------------------------------------------------------------
# The build runs on every core (JOBS); each chapter already keeps all of them busy.
# Each stage's end is stamped into course-stages.tsv, and the FMA peak is
# probed before and after the chapters (bench/peak.c, half a second each):
# bench/course-time.sh then prints what the course took, stage by stage and
# chapter by chapter, beside how fast this machine's cores were meanwhile.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
COURSE_STAGES := $(BUILD)/course-stages.tsv
stamp = printf '%s\t%s\n' $(1) "$$(date +%s.%N)" >> $(COURSE_STAGES)
course: deps deps-course
	@mkdir -p $(BUILD) && rm -f $(COURSE_STAGES) && $(call stamp,start)
	$(MAKE) --no-print-directory -j$(JOBS) all $(BUILD)/bench/peak
	@$(call stamp,build)
	$(BUILD)/bench/peak > $(BUILD)/course-peak-before.txt
	@$(call stamp,probe)
	@for n in $(NUMS); do $(MAKE) --no-print-directory run-$$n || exit 1; done
	@$(call stamp,chapters)
	$(BUILD)/bench/peak > $(BUILD)/course-peak-after.txt
	@$(call stamp,probe)
	$(MAKE) plots
	@$(call stamp,figures)
	$(MAKE) book
	@$(call stamp,book)
	@sh bench/course-time.sh $(BUILD) "$(MPI_NUMS)"

# ---- benchmarks --------------------------------------------------------------
# a bench links the model files of the chapters bench/deps names for it
# (lines "bench_gpt 05-gpt-cross-entropy"), nothing else; only bench_gemm
# links OpenBLAS (its reference), so make course can build bench/peak without it.
BENCH_SRC := $(sort $(wildcard bench/*.c))
bench_deps = $(call listed_deps,bench/deps,$(1))
define BENCH_RULE
$(BUILD)/bench/$(1): bench/$(1).c $(wildcard bench/*.h) bench/deps $(BUILD)/float/libgen.a $(call model_objs,$(call bench_deps,$(1)),float)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(BASEFLAGS) $(call deps_inc,$(call bench_deps,$(1))) $$(filter %.c %.o,$$^) $$(filter %.a,$$^) \
	  $(if $(filter bench_gemm,$(1)),-lopenblas) $$(LDLIBS) -o $$@
endef
$(foreach b,$(BENCH_SRC:bench/%.c=%),$(eval $(call BENCH_RULE,$(b))))
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

# ---- fuzzing: make fuzz [FUZZ_SECONDS=N] (not part of make check) -----------
# libFuzzer harnesses (fuzz/fuzz_*.c) built with clang under ASan + UBSan;
# each runs FUZZ_SECONDS; findings land in $(BUILD)/fuzz/crashes/<harness>/.
# See fuzz/run.sh; fuzz/regress/ keeps every input that ever crashed, and
# tests/test_fuzz_regress.c replays them in make check.
FUZZ_CC        ?= clang
FUZZ_SECONDS   ?= 180
FUZZ_HARNESSES := idx corpus checkpoint weave
FUZZ_FLAGS      = -std=gnu11 $(WARN) -Wno-unknown-pragmas -Wno-pass-failed -fopenmp -Ilib -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all
$(BUILD)/fuzz/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@
$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h book/weave.c $(LIB_SRC:lib/%.c=$(BUILD)/fuzz/lib/%.o)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined $< $(filter %.o,$^) $(LDLIBS) -o $@
.SECONDARY: $(LIB_SRC:lib/%.c=$(BUILD)/fuzz/lib/%.o)
$(BUILD)/fuzz/seed_checkpoint: fuzz/seed_checkpoint.c fuzz/fuzz_checkpoint.c fuzz/fuzz.h $(BUILD)/double/libgen.a
	$(CC) $(BASEFLAGS) -DREAL_DOUBLE $< $(BUILD)/double/libgen.a $(LDLIBS) -o $@
fuzz: deps-fuzz $(FUZZ_HARNESSES:%=$(BUILD)/fuzz/fuzz_%) $(BUILD)/fuzz/seed_checkpoint
	sh fuzz/seeds.sh $(BUILD)/fuzz/seeds $(BUILD)/fuzz/seed_checkpoint
	sh fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

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
deps-fuzz:
	$(call INSTALL,$(DEPS_FUZZ))

clean:
	rm -rf $(BUILD)

-include plots/plots.mk book/book.mk

# ---- exercises: the student tree and its grader (exercises/README.md) ----------
# make student [STUDENT_OUT=dir]  the project with every solution region stubbed
# make grade / grade-NN           run each exercise's tests, print and write the table
# make check-exercises            every stub fails its tests, every solution passes
STUDENT_OUT ?= $(BUILD)/student
GRADE_ENV = MAKE="$(MAKE)" BUILD="$(BUILD)" GRADE_CC="$(CC) $(BASEFLAGS) -DREAL_DOUBLE" GRADE_MPIRUN="$(MPIRUN_2)"
.PHONY: student grade check-exercises $(addprefix grade-,$(NUMS))
student:
	@sh exercises/student.sh $(STUDENT_OUT)
grade:
	@$(GRADE_ENV) sh exercises/grade.sh
$(addprefix grade-,$(NUMS)): grade-%:
	@$(GRADE_ENV) sh exercises/grade.sh $*
check-exercises:
	@$(GRADE_ENV) STUDENT_OUT="$(STUDENT_OUT)" sh exercises/check.sh
