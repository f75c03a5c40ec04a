/* dot.c - Graphviz export of the tape; see dot.h. */
#include "dot.h"

#include <string.h>

#include "util.h"

void dot_write(FILE *f, const Tape *T, const Tensor *loss, const char *title) {
    int n = tape_len(T);
    /* mark the nodes the loss depends on: walk the tape backwards */
    char *used = xcalloc((size_t)n, 1);
    used[loss->id] = 1;
    for (int i = loss->id; i >= 0; i--) {
        Tensor *t = tape_node_at(T, i);
        if (!used[i]) continue;
        for (int k = 0; k < MAX_INPUTS; k++)
            if (t->in[k] && !t->in[k]->name) used[t->in[k]->id] = 1; /* parameters are not on the tape */
    }
    fprintf(f, "digraph G {\n  label=\"%s\"; labelloc=t; rankdir=BT;\n", title);
    fprintf(f, "  node [fontname=\"Helvetica\", fontsize=10, style=filled];\n");
    char shp[64];
    const Tensor **seen = NULL; /* parameters already drawn */
    int nseen = 0;
    for (int i = 0; i <= loss->id; i++) {
        Tensor *t = tape_node_at(T, i);
        if (!used[i]) continue;
        if (t->op == OP_LEAF)
            fprintf(f, "  n%d [label=\"input\\n%s\", shape=ellipse, fillcolor=\"#e8e8e8\"];\n", i,
                    shape_str(t, shp, sizeof shp));
        else
            fprintf(f, "  n%d [label=\"%s\\n%s\", shape=box, fillcolor=\"%s\"];\n", i, OPS[t->op].name,
                    shape_str(t, shp, sizeof shp), t == loss ? "#f4c7c3" : "#dbe8f6");
        for (int k = 0; k < MAX_INPUTS; k++) {
            Tensor *a = t->in[k];
            if (!a) continue;
            if (a->name) { /* a parameter: drawn once, however often it is used */
                int p = 0;
                while (p < nseen && seen[p] != a) p++;
                if (p == nseen) {
                    seen = xrealloc(seen, (size_t)(nseen + 1) * sizeof *seen);
                    seen[nseen++] = a;
                    fprintf(f, "  p%d [label=\"%s\\n%s\", shape=ellipse, fillcolor=\"#fde9c4\"];\n", p, a->name,
                            shape_str(a, shp, sizeof shp));
                }
                fprintf(f, "  p%d -> n%d;\n", p, i);
            } else {
                fprintf(f, "  n%d -> n%d;\n", a->id, i);
            }
        }
    }
    fprintf(f, "}\n");
    xfree(seen);
    xfree(used);
}
