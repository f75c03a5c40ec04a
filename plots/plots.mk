# plots/plots.mk: every figure of the course, included by the top-level Makefile.
#
#   make plots   runs plots/plots.sh, which renders each figure whose data exists, into $(FIG_DIR)
#                (JOBS at a time: the number of cores unless set):
#     - plots/NN-name.gp for which a run directory $(RUN_DIR)/NN-*/ exists
#       -> NN-name.svg (the book) and NN-name.png (a quick look), with
#       gnuplot -e "datadir='...'; outfile='...'; fmt='svg|png'" (see style.gp);
#     - each $(RUN_DIR)/*/*.dot (graphs the chapters dumped from the tape)
#       -> <basename>.svg and .png, by Graphviz;
#     - the article's three flowcharts, plots/{gan,vae,gpt}.dot -> gan.svg, ...
#   A figure is redrawn only when its script, style.gp or its run data is
#   newer than it. A gnuplot or dot failure names the file and fails the target.
#
# The work is done in the recipe (not in prerequisites computed when make reads
# this file), so `make course` can run the chapters and then draw their
# figures in one invocation.

BUILD       ?= build
PLOTS_DIR   ?= plots
RUN_DIR     ?= $(BUILD)/run
FIG_DIR     ?= $(BUILD)/fig
GNUPLOT     ?= gnuplot
DOT         ?= dot
FLOWCHARTS  := gan vae gpt
PLOTS_DEPS  := gnuplot-nox graphviz

.PHONY: plots
plots:
	@JOBS='$(JOBS)' PLOTS_DIR='$(PLOTS_DIR)' RUN_DIR='$(RUN_DIR)' FIG_DIR='$(FIG_DIR)' GNUPLOT='$(GNUPLOT)' DOT='$(DOT)' \
	 FLOWCHARTS='$(FLOWCHARTS)' sh $(PLOTS_DIR)/plots.sh
