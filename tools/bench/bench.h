/* SPDX-License-Identifier: GPL-2.0 */
/* bitnet-bench subcommands; each gets argv from its own name on. */
#ifndef BITNET_BENCH_H
#define BITNET_BENCH_H

int bench_kernels_main(int argc, char **argv);
int bench_batch_main(int argc, char **argv);
int bench_head_main(int argc, char **argv);
int bench_e2e_main(int argc, char **argv);
int bench_serve_main(int argc, char **argv);

#endif /* BITNET_BENCH_H */
