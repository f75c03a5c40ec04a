/* checkpoint.h - save and load a model's parameters: a versioned binary file.
 *
 * Teaches: a file format that refuses bad input instead of crashing on it.
 * The whole file is read into memory once; every length in it is checked
 * against the bytes that remain before it is used; a checksum covers every
 * byte; only then are the numbers copied into the model. Any problem stops
 * the program with a message that names the file and the cause.
 *
 * The format, version 1 (all integers little-endian, as this machine stores
 * them; checkpoint.c refuses to compile on a big-endian machine):
 *
 *   offset  size       field
 *   0       8          magic "GENCKPT1"
 *   8       u32        version = 1
 *   12      u32        bytes per number: 4 (float32) or 8 (float64); the
 *                      build's `real` when saving. Loading converts either
 *                      way, so a float checkpoint loads in the double build.
 *   16      u32        meta length L, then L bytes of meta text (no NUL)
 *           u32        number of tensors
 *           per tensor: u32 name length, the name (no NUL), u32 ndim (1..4),
 *                      ndim u32 dims (each >= 1), prod(dims) numbers
 *   end-8   u64        FNV-1a 64 hash of every byte before it
 *
 * Leaves out: optimizer state (a run restarted from a checkpoint starts its
 * Adam moments afresh), compression, memory mapping, other byte orders.
 */
#ifndef CHECKPOINT_H
#define CHECKPOINT_H

#include <stddef.h>
#include "tensor.h"

#define CKPT_VERSION 1

/* Write every parameter of ps (names, shapes, data) and the meta line (a
 * short free text, e.g. "gpt vocab=96 layers=4 ..."; NULL = empty) to path.
 * Writes path.tmp and renames it, so a crash never leaves half a file under
 * the real name. Cannot write: EXIT_IOERR. */
void checkpoint_save(const char *path, const ParamSet *ps, const char *meta);

/* Load every parameter of ps from path: each must be in the file with the
 * same shape, and the file must hold no parameter the model lacks. The model
 * is changed only if the whole file is valid. Errors (each a fail() naming
 * the file and the cause; `hint` says which command makes the file):
 *   missing or unreadable file, "not a regular file" (a FIFO, a device)
 *                                                   EXIT_NOINPUT
 *   "not a checkpoint" (wrong magic), "unsupported version N",
 *   "truncated", "damaged" (checksum mismatch, bad field, a NUL byte in the
 *   meta text or a name, a tensor name that appears twice: "duplicated"),
 *   "missing parameter \"<name>\"",
 *   "<name>: file has [..], model has [..]",
 *   "file has parameter \"<name>\" that the model does not"   EXIT_DATA */
void checkpoint_load(const char *path, ParamSet *ps, const char *hint);

/* The meta line alone (to build the right model before loading), copied into
 * buf (at most len-1 bytes, NUL-terminated). The file is validated exactly
 * as by checkpoint_load, with the same errors. Returns buf. */
char *checkpoint_meta(const char *path, char *buf, size_t len, const char *hint);

#endif
