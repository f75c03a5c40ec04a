/* dot.h - draw the autodiff graph of a loss with Graphviz.
 *
 * Teaches: the tape *is* a graph. We walk back from the loss along each
 * node's inputs and write one Graphviz node per tensor: ops as boxes with
 * their name and output shape, parameters as named ellipses, inputs grey.
 * Leaves out: layout hints; dot lays it out.
 */
#ifndef DOT_H
#define DOT_H

#include <stdio.h>

#include "tensor.h"

void dot_write(FILE *f, const Tape *T, const Tensor *loss, const char *title);

#endif
