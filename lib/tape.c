/* tape.c - the tape, its arena, parameter sets, and the op table.
 *
 * Teaches: what "reverse mode" means in code. Every op appends one node to
 * the tape as it runs, so the tape is in topological order (inputs before
 * outputs). backward() seeds d loss / d loss = 1 and calls each node's
 * backward in reverse order: by the time a node runs, every consumer of its
 * output has already added its share to out->grad. That is also why grads
 * accumulate with += : a tensor used twice (a + a) gets two contributions.
 * Leaves out: freeing nodes early, graph pruning, double backward.
 */
#include "par.h"
#include "tensor.h"

#include <omp.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "util.h"

/* ---------------------------------------------------------------------------
 * The op table: one row per op, generated from OP_LIST.
 * ------------------------------------------------------------------------- */
#define X(ENUM, name) void fwd_##name(Tensor *out); void bwd_##name(Tensor *out);
OP_LIST(X)
#undef X

/* Leaves have neither forward nor backward. */
void fwd_leaf(Tensor *out) { (void)out; }
void bwd_leaf(Tensor *out) { (void)out; }

const OpInfo OPS[OP_COUNT] = {
#define X(ENUM, name) [OP_##ENUM] = {#name, fwd_##name, bwd_##name},
    OP_LIST(X)
#undef X
};

/* ---------------------------------------------------------------------------
 * Shapes.
 * ------------------------------------------------------------------------- */
int shape_equal(const Tensor *a, const Tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

char *shape_str(const Tensor *t, char *buf, size_t len) {
    size_t k = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < t->ndim && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, i ? ", %d" : "%d", t->shape[i]);
    if (k < len) snprintf(buf + k, len - k, "]");
    return buf;
}

static long set_shape(Tensor *t, int ndim, const int *shape) {
    if (ndim < 1 || ndim > MAX_DIMS)
        fail(EXIT_SOFTWARE, "tensor", "use 1 to 4 dimensions", "%d dimensions", ndim);
    t->ndim = ndim;
    t->size = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1) fail(EXIT_SOFTWARE, "tensor", "every dimension must be >= 1", "dimension %d is %d", i, shape[i]);
        t->shape[i] = shape[i];
        t->size *= shape[i];
    }
    for (int i = ndim; i < MAX_DIMS; i++) t->shape[i] = 1;
    return t->size;
}

/* ---------------------------------------------------------------------------
 * Parameter sets: declare, then allocate one block.
 * ------------------------------------------------------------------------- */
ParamSet *params_new(void) { return xcalloc(1, sizeof(ParamSet)); }

/* ---- The name table: see ParamSet in tensor.h ---- */

static uint32_t name_hash(const char *s) { /* FNV-1a, 32 bits */
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The slot holding `name`, or the empty slot where it would go. */
static int *name_slot(const ParamSet *ps, const char *name) {
    unsigned mask = (unsigned)ps->n_slots - 1, i = name_hash(name) & mask;
    while (ps->slot[i] >= 0 && strcmp(ps->t[ps->slot[i]]->name, name) != 0) i = (i + 1) & mask;
    return &ps->slot[i];
}

/* Double the table (or make the first one) and put every name back. */
static void grow_slots(ParamSet *ps) {
    xfree(ps->slot);
    ps->n_slots = ps->n_slots ? 2 * ps->n_slots : 64;
    ps->slot = xmalloc((size_t)ps->n_slots * sizeof(int));
    for (int i = 0; i < ps->n_slots; i++) ps->slot[i] = -1;
    for (int k = 0; k < ps->n; k++) *name_slot(ps, ps->t[k]->name) = k;
}

Tensor *params_add(ParamSet *ps, const char *name, int ndim, const int *shape) {
    if (ps->data) fail(EXIT_SOFTWARE, name, "declare every parameter before params_alloc", "parameter set already allocated");
    if (params_get(ps, name)) fail(EXIT_SOFTWARE, name, "give each parameter a unique name", "duplicate parameter name");
    /* the size in 64 bits, checked before set_shape multiplies in long */
    uint64_t size = 1, max = (uint64_t)(PTRDIFF_MAX / (ptrdiff_t)sizeof(real)) - (uint64_t)ps->size;
    for (int i = 0; i < ndim && i < MAX_DIMS; i++) {
        if (shape[i] > 0 && size > max / (uint64_t)shape[i])
            fail(EXIT_SOFTWARE, name, "reduce the model's sizes", "shape too large: the parameters would not fit in memory");
        if (shape[i] > 0) size *= (uint64_t)shape[i];
    }
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 16;
        ps->t = xrealloc(ps->t, (size_t)ps->cap * sizeof(Tensor *));
    }
    if (2 * (ps->n + 1) > ps->n_slots) grow_slots(ps);
    Tensor *t = xcalloc(1, sizeof(Tensor));
    set_shape(t, ndim, shape);
    t->op = OP_LEAF;
    size_t len = strlen(name) + 1; /* the set owns a copy of the name */
    t->name = memcpy(xmalloc(len), name, len);
    t->id = ps->n;
    ps->t[ps->n++] = t;
    *name_slot(ps, t->name) = t->id;
    ps->size += t->size;
    return t;
}

void params_alloc(ParamSet *ps) {
    ps->data = xcalloc((size_t)ps->size, sizeof(real));
    ps->grad = xcalloc((size_t)ps->size, sizeof(real));
    long off = 0;
    for (int i = 0; i < ps->n; i++) {
        ps->t[i]->data = ps->data + off;
        ps->t[i]->grad = ps->grad + off;
        off += ps->t[i]->size;
    }
}

Tensor *params_get(const ParamSet *ps, const char *name) {
    if (!ps->n_slots) return NULL;
    int k = *name_slot(ps, name);
    return k >= 0 ? ps->t[k] : NULL;
}

/* Zeroing a block this large is split over the threads (a gradient of the
 * GPT's MLP is 4 MB, all its parameters' gradients 3 MB: one core's stores
 * do not fill the memory's bandwidth). */
#define ZERO_PAR_MIN ((size_t)1 << 20)
#define ZERO_PIECE ((size_t)1 << 16)

/* memset(p, 0, bytes), in 64 KB pieces over the threads when it is large
 * (zeros are zeros: which thread writes a piece changes nothing). */
static void zero_bytes(unsigned char *p, size_t bytes) {
    long pieces = (long)((bytes + ZERO_PIECE - 1) / ZERO_PIECE);
    PAR_FOR(bytes >= ZERO_PAR_MIN && !omp_in_parallel(), "omp parallel for schedule(static)",
    for (long i = 0; i < pieces; i++) {
        size_t at = (size_t)i * ZERO_PIECE, n = bytes - at < ZERO_PIECE ? bytes - at : ZERO_PIECE;
        memset(p + at, 0, n);
    });
}

void params_zero_grad(ParamSet *ps) {
    zero_bytes((unsigned char *)ps->grad, (size_t)ps->size * sizeof(real));
}

void params_freeze(ParamSet *ps, int frozen) {
    if (!ps->grad) fail(EXIT_SOFTWARE, "params_freeze", "call params_alloc first", "parameter set not allocated");
    for (int i = 0; i < ps->n; i++) /* a tensor's grad sits where its data does, in the other block */
        ps->t[i]->grad = frozen ? NULL : ps->grad + (ps->t[i]->data - ps->data);
}

void params_free(ParamSet *ps) {
    if (!ps) return;
    for (int i = 0; i < ps->n; i++) {
        xfree((char *)ps->t[i]->name);
        xfree(ps->t[i]);
    }
    xfree(ps->t);
    xfree(ps->slot);
    xfree(ps->data);
    xfree(ps->grad);
    xfree(ps);
}

/* ---------------------------------------------------------------------------
 * The arena: a list of big chunks, bump-allocated, rewound by tape_reset.
 * The first step grows it; every later step reuses the same memory.
 * A request goes to the first chunk with room for it (first fit), so the
 * tail a large request leaves in one chunk still takes the small requests
 * after it: the arena stays close to what a step really holds. Every step
 * makes the same requests in the same order, so each lands where it did
 * in the first step, and the arena never grows again.
 * ------------------------------------------------------------------------- */
#define ARENA_ALIGN 64
#define CHUNK_MIN ((size_t)1 << 22) /* 4 MiB */

typedef struct Chunk {
    struct Chunk *next;
    size_t cap, used;
    unsigned char *mem;   /* ARENA_ALIGN-aligned start of the usable bytes */
} Chunk;

struct Tape {
    Chunk *first;         /* chunks in allocation order */
    Tensor **nodes;       /* the tape, in creation order */
    int n, cap;
    int grads_dirty;      /* has backward written grads since tape_reset? */
    unsigned char *ready; /* [cap]: backward has zeroed node i's grad (see backward) */
};

Tape *tape_new(void) { return xcalloc(1, sizeof(Tape)); }

static Chunk *chunk_new(size_t cap) {
    Chunk *c = xmalloc(sizeof(Chunk) + cap + ARENA_ALIGN);
    uintptr_t p = (uintptr_t)(c + 1);
    c->mem = (unsigned char *)((p + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN);
    c->next = NULL;
    c->cap = cap;
    c->used = 0;
    return c;
}

static void *arena_get(Tape *T, size_t bytes, int zero) {
    bytes = (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    Chunk **at = &T->first;
    while (*at && (*at)->used + bytes > (*at)->cap) at = &(*at)->next;
    if (!*at) *at = chunk_new(bytes > CHUNK_MIN ? bytes : CHUNK_MIN); /* grow: only while the arena is new */
    Chunk *c = *at;
    void *p = c->mem + c->used;
    c->used += bytes;
    if (zero) zero_bytes(p, bytes);
    return p;
}

real *tape_alloc(Tape *T, long n) { return arena_get(T, (size_t)n * sizeof(real), 1); }
real *tape_alloc_uninit(Tape *T, long n) { return arena_get(T, (size_t)n * sizeof(real), 0); }

size_t tape_bytes(const Tape *T) {
    size_t b = 0;
    for (const Chunk *c = T->first; c; c = c->next) b += c->cap;
    return b;
}

void tape_reset(Tape *T) {
    T->n = 0;
    T->grads_dirty = 0;
    for (Chunk *c = T->first; c; c = c->next) c->used = 0;
}

void tape_free(Tape *T) {
    if (!T) return;
    for (Chunk *c = T->first, *next; c; c = next) {
        next = c->next;
        xfree(c);
    }
    xfree(T->nodes);
    xfree(T->ready);
    xfree(T);
}

int tape_len(const Tape *T) { return T->n; }
Tensor *tape_node_at(const Tape *T, int i) { return T->nodes[i]; }

/* ---------------------------------------------------------------------------
 * Nodes.
 * ------------------------------------------------------------------------- */
static Tensor *push(Tape *T, OpKind op, int ndim, const int *shape) {
    Tensor *t = arena_get(T, sizeof(Tensor), 1);
    set_shape(t, ndim, shape);
    t->op = op;
    if (T->n == T->cap) {
        T->cap = T->cap ? 2 * T->cap : 256;
        T->nodes = xrealloc(T->nodes, (size_t)T->cap * sizeof(Tensor *));
        T->ready = xrealloc(T->ready, (size_t)T->cap);
    }
    t->id = T->n;
    T->nodes[T->n++] = t;
    return t;
}

Tensor *tape_input(Tape *T, int ndim, const int *shape, int requires_grad) {
    Tensor *t = push(T, OP_LEAF, ndim, shape);
    t->data = tape_alloc(T, t->size);
    if (requires_grad) t->grad = tape_alloc(T, t->size);
    return t;
}

Tensor *tape_node(Tape *T, OpKind op, int ndim, const int *shape, Tensor *a, Tensor *b, Tensor *c) {
    Tensor *t = push(T, op, ndim, shape);
    t->in[0] = a;
    t->in[1] = b;
    t->in[2] = c;
    /* reshape is a view: it shares its input's numbers (but has its own grad).
     * Other outputs are not zeroed: every forward writes all of its output
     * (the gradient checks prove it, since they replay each forward over its
     * old values), and zeroing hundreds of MB per step is not free. Nor is
     * the grad: backward zeroes it just before its first use. */
    t->data = op == OP_RESHAPE ? a->data : arena_get(T, (size_t)t->size * sizeof(real), 0);
    if ((a && a->grad) || (b && b->grad) || (c && c->grad)) t->grad = tape_alloc_uninit(T, t->size);
    return t;
}

/* ---------------------------------------------------------------------------
 * Backward and replay.
 * ------------------------------------------------------------------------- */

/* The ops whose backward writes a fresh input grad whole (=) rather than
 * adding to it: the big activations' first writers (the GPT's linear layers
 * and attention, the GAN's convolutions and activations). Writing skips the
 * zeroing, a pass over every activation's gradient, and the read of zeros. */
static const unsigned char WRITES_FRESH[OP_COUNT] = {
    [OP_LINEAR] = 1, [OP_CAUSAL_ATTENTION] = 1, [OP_CONV2D] = 1, [OP_CONV_TRANSPOSE2D] = 1,
    [OP_RELU] = 1,   [OP_LEAKY_RELU] = 1,       [OP_TANH] = 1,   [OP_SIGMOID] = 1,
    [OP_GELU] = 1,   [OP_EXP] = 1,              [OP_LOG] = 1,    [OP_NEG] = 1,
    [OP_ADD_SCALAR] = 1, [OP_MUL_SCALAR] = 1};
static int fresh_grads = 1; /* tape_fresh_grads */

int tape_fresh_grads(int on) {
    int was = fresh_grads;
    fresh_grads = on;
    return was;
}

/* Readies t's grad for an op that is about to write it (writes = 1: the op
 * is in WRITES_FRESH) or to add to it: if t is a node (not a leaf:
 * parameters and inputs keep their own grads) that no op has written yet,
 * its grad is zeroed, or only marked fresh for a writing op. A grad still
 * fresh (its writer wrote nothing) is zeroed before anything adds to it. A
 * node of another tape is refused: its grad is that tape's to zero. */
static void ready_grad(Tape *T, Tensor *t, int writes) {
    if (!t->grad || t->op == OP_LEAF) return;
    if (t->id >= T->n || T->nodes[t->id] != t)
        fail(EXIT_SOFTWARE, "backward", "record the whole graph on one tape (copy a result across with tape_input)",
             "a %s node of another tape is an input here", OPS[t->op].name);
    if (T->ready[t->id] && !(t->grad_fresh && !writes)) return;
    T->ready[t->id] = 1;
    t->grad_fresh = writes && fresh_grads;
    if (!t->grad_fresh) zero_bytes((unsigned char *)t->grad, (size_t)t->size * sizeof(real));
}
static void zero_grad_once(Tape *T, Tensor *t) { ready_grad(T, t, 0); }
void backward(Tape *T, Tensor *loss) {
    if (loss->size != 1)
        fail(EXIT_SOFTWARE, "backward", "reduce the loss to a scalar (t_sum / t_mean)",
             "the loss has %ld elements", loss->size);
    if (!loss->grad) fail(EXIT_SOFTWARE, "backward", "the loss must depend on a parameter", "no gradient flows to the loss");
    /* A node's grad is zeroed here, just before the first backward that adds
     * to it (its last consumer on the tape) or, if none does, before its own
     * backward reads it: the zeros are written while the numbers are about
     * to be used, not in forward, long before. The sums are the same: each
     * still starts from zero and adds the same terms in the same order.
     * If that first consumer is in WRITES_FRESH, it writes 0 + its share
     * instead, with no zeroing: the same numbers (0 + x is x, and a -0
     * becomes +0 as it would on zeros).
     * Inputs' grads (tape_input) are zeroed when made; only a second
     * backward on the same tape (the gradient checker, a test) clears them. */
    if (T->grads_dirty)
        for (int i = 0; i < T->n; i++)
            if (T->nodes[i]->op == OP_LEAF && T->nodes[i]->grad)
                memset(T->nodes[i]->grad, 0, (size_t)T->nodes[i]->size * sizeof(real));
    T->grads_dirty = 1;
    memset(T->ready, 0, (size_t)T->n);
    zero_grad_once(T, loss);
    loss->grad[0] = 1;
    for (int i = loss->id; i >= 0; i--) {
        Tensor *t = T->nodes[i];
        if (!t->grad || t->op == OP_LEAF) continue;
        zero_grad_once(T, t); /* no consumer added to it: it holds zeros */
        for (int k = 0; k < MAX_INPUTS; k++)
            if (t->in[k]) ready_grad(T, t->in[k], WRITES_FRESH[t->op]);
        OPS[t->op].backward(t);
    }
    for (int i = 0; i < T->n; i++) /* past the loss, or a writer that wrote nothing: no gradient */
        zero_grad_once(T, T->nodes[i]);
}

void tape_replay(Tape *T) {
    for (int i = 0; i < T->n; i++) {
        Tensor *t = T->nodes[i];
        if (t->op == OP_RESHAPE) t->data = t->in[0]->data;
        OPS[t->op].forward(t);
    }
}
