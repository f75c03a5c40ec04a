# book/book.mk: the book, included by the top-level Makefile.
#
#   make book        weave every chapters/NN-*/ with its last run (build/run/NN-*/)
#                    and its figures (build/fig/), render build/book/ with pandoc.
#                    Fails, naming each missing run output or figure.
#   make check-book  open every page in headless Chromium; fail on a broken image,
#                    a broken internal link or anchor, or math that did not render.
#   make book-shots  screenshots of the index and a chapter (laptop and phone
#                    sizes) into build/book/shots/.
#   make check-weave the weaver's Criterion tests (tests/test_weave.c).
#
# Variables for the top-level Makefile: BOOK_DEPS (Debian packages), WEAVE (the
# weaver binary). Uses BUILD and CC from the including Makefile.

BUILD         ?= build
CC            ?= gcc
CHAPTERS_DIR  ?= chapters
RUN_DIR       ?= $(BUILD)/run
FIG_DIR       ?= $(BUILD)/fig
BOOK_OUT      ?= $(BUILD)/book
WEAVE         := $(BUILD)/bin/weave
WEAVE_CFLAGS  := -std=gnu11 -O2 -Wall -Wextra -Werror
BOOK_DEPS     := pandoc gnuplot-nox graphviz chromium
CHROMIUM      ?= chromium

.PHONY: book check-book book-shots check-weave weave

weave: $(WEAVE)

$(WEAVE): book/weave.c
	@mkdir -p $(@D)
	$(CC) $(WEAVE_CFLAGS) -o $@ book/weave.c -lm

book: plots $(WEAVE)
	@JOBS='$(JOBS)' CHAPTERS='$(CHAPTERS_DIR)' RUN_DIR='$(RUN_DIR)' FIG_DIR='$(FIG_DIR)' \
	 BOOK_OUT='$(BOOK_OUT)' WEAVE='$(WEAVE)' BOOK_SRC=book sh book/build.sh

check-book:
	@BOOK_OUT='$(BOOK_OUT)' CHROMIUM='$(CHROMIUM)' sh book/check-book.sh

book-shots:
	@BOOK_OUT='$(BOOK_OUT)' CHROMIUM='$(CHROMIUM)' sh book/check-book.sh --shots

$(BUILD)/bin/test_weave: tests/test_weave.c book/weave.c
	@mkdir -p $(@D)
	$(CC) $(WEAVE_CFLAGS) -o $@ tests/test_weave.c -lcriterion -lm

check-weave: $(BUILD)/bin/test_weave
	$(BUILD)/bin/test_weave
