// SPDX-License-Identifier: GPL-2.0
/*
 * Shapes, packed sizes and the conversions between codes, the packed file
 * formats and the execution layout (layout described in bnc_internal.h).
 */
#include "bnc_formats.h"

int bnc_check_shape(u32 rows, u32 cols)
{
	if (rows < 1 || rows > BNC_MAX_ROWS)
		return -EINVAL;
	if (cols < BNC_K_ALIGN || cols > BNC_MAX_COLS || cols % BNC_K_ALIGN)
		return -EINVAL;
	return 0;
}

size_t bnc_packed_size(unsigned int fmt, u32 rows, u32 cols)
{
	const struct bnc_block_fmt *bf = bnc_block_fmt(fmt);
	u64 n = (u64)rows * cols;

	if (bnc_check_shape(rows, cols))
		return 0;
	if (fmt == BNC_FMT_EXEC)
		return bnc_exec_size(rows, cols);
	if (!bf)
		return 0;
	/* llama.cpp blocks never straddle rows */
	if (fmt != BNC_FMT_I2_S && cols % bf->weights)
		return 0;
	if (fmt == BNC_FMT_I2_S)
		return n / 4 + 32;
	return n / bf->weights * bf->bytes;
}

u32 bnc_row_tile_align(void)
{
	return BNC_BLOCK_ROWS;
}

/* ---- execution layout ---- */

/*
 * The 16 codes of row @m, columns k..k+15 (k a multiple of 16): 4 bytes of
 * one chunk, byte i holding columns k + 4s + i in bits 2s+1:2s.
 */
static void bnc_exec_put16(u8 *data, u32 cols, u32 m, u32 k, const u8 *c)
{
	unsigned int shift, s;
	u32 d, x = 0;

	/* codes are at most 2, so shifting 4 at once never crosses a byte */
	for (s = 0; s < 4; s++) {
		memcpy(&d, c + 4 * s, sizeof(d));
		x |= d << (2 * s);
	}
	memcpy(data + bnc_exec_offset(cols, m, k, &shift), &x, sizeof(x));
}

static u8 bnc_exec_get(const u8 *data, u32 cols, u32 m, u32 k)
{
	unsigned int shift;
	size_t off = bnc_exec_offset(cols, m, k, &shift);

	return (data[off] >> shift) & 3;
}

/* Codes 1 (zero weights) in the last, partial block: pad rows stay so. */
static void bnc_exec_begin(u8 *data, u32 rows, u32 cols)
{
	if (rows % BNC_BLOCK_ROWS)
		memset(data + (size_t)(rows / BNC_BLOCK_ROWS) * bnc_block_bytes(cols), 0x55,
		       bnc_block_bytes(cols));
}

/* R16: no 2-bit code 3. */
static int bnc_r16_check_codes(const u8 *data, u32 rows, u32 cols)
{
	size_t i, n = bnc_exec_code_bytes(rows, cols);

	for (i = 0; i < n; i++)
		if (data[i] & (data[i] >> 1) & 0x55)
			return -EINVAL;
	return 0;
}

/* What differs between the execution layouts when buffers are written and read. */
struct bnc_layout_ops {
	void (*begin)(u8 *data, u32 rows, u32 cols);	/* before any put16 */
	void (*put16)(u8 *data, u32 cols, u32 m, u32 k, const u8 *c);
	void (*finish)(u8 *data, u32 rows, u32 cols);	/* after the last; may be NULL */
	u8 (*get)(const u8 *data, u32 cols, u32 m, u32 k);
	int (*check_codes)(const u8 *data, u32 rows, u32 cols);
	u32 max_cols;
};

static const struct bnc_layout_ops bnc_layouts[] = {
	[BNC_LAYOUT_R16] = { bnc_exec_begin, bnc_exec_put16, NULL, bnc_exec_get,
			     bnc_r16_check_codes, BNC_MAX_COLS },
	[BNC_LAYOUT_T5] = { bnc_t5_begin, bnc_t5_put16, bnc_t5_finish, bnc_t5_get,
			    bnc_t5_check_codes, BNC_T5_MAX_COLS },
	[BNC_LAYOUT_LUT3] = { bnc_lut3_begin, bnc_lut3_put16, NULL, bnc_lut3_get,
			      bnc_lut3_check_codes, BNC_MAX_COLS },
};

static const struct bnc_layout_ops *bnc_layout_ops(u32 layout)
{
	if (layout >= ARRAY_SIZE(bnc_layouts) || !bnc_layouts[layout].get)
		return NULL;
	return &bnc_layouts[layout];
}

size_t bnc_layout_size(u32 layout, u32 rows, u32 cols)
{
	const struct bnc_layout_ops *ops = bnc_layout_ops(layout);

	if (!ops || bnc_check_shape(rows, cols) || cols > ops->max_cols)
		return 0;
	return bnc_layout_code_bytes(layout, rows, cols) + BNC_EXEC_TAIL;
}

size_t bnc_exec_size(u32 rows, u32 cols)
{
	return bnc_layout_size(BNC_LAYOUT_R16, rows, cols);
}

u8 bnc_exec_code(const struct bnc_matrix *w, u32 m, u32 k)
{
	return bnc_layout_ops(w->layout)->get(w->data, w->cols, m, k);
}

static void bnc_layout_end(u32 layout, u8 *data, u32 rows, u32 cols, u32 scale_bits)
{
	const struct bnc_layout_ops *ops = bnc_layout_ops(layout);
	u8 *tail = data + bnc_layout_code_bytes(layout, rows, cols);

	if (ops->finish)
		ops->finish(data, rows, cols);
	memset(tail, 0, BNC_EXEC_TAIL);
	bnc_put_le32(tail, BNC_EXEC_MAGIC);
	bnc_put_le32(tail + 4, layout);
	bnc_put_le32(tail + 8, rows);
	bnc_put_le32(tail + 12, cols);
	bnc_put_le32(tail + 16, scale_bits);
}

/* A stored execution layout: header matches, codes canonical, pads zero. */
static int bnc_exec_validate(u32 layout, const u8 *data, u32 rows, u32 cols,
			     u32 *scale_bits)
{
	const struct bnc_layout_ops *ops = bnc_layout_ops(layout);
	const u8 *tail = data + bnc_layout_code_bytes(layout, rows, cols);
	size_t i;
	u32 m, k;
	int ret;

	if (bnc_get_le32(tail) != BNC_EXEC_MAGIC || bnc_get_le32(tail + 4) != layout ||
	    bnc_get_le32(tail + 8) != rows || bnc_get_le32(tail + 12) != cols)
		return -EINVAL;
	for (i = 20; i < BNC_EXEC_TAIL; i++)
		if (tail[i])
			return -EINVAL;
	ret = ops->check_codes(data, rows, cols);
	if (ret)
		return ret;
	for (m = rows; m < bnc_row_blocks(rows) * BNC_BLOCK_ROWS; m++)
		for (k = 0; k < cols; k++)
			if (ops->get(data, cols, m, k) != 1)
				return -EINVAL;
	*scale_bits = bnc_get_le32(tail + 16);
	return 0;
}

/* ---- reading packed formats ---- */

/* Where bnc_read_blocks() delivers codes: execution layout or t[]. */
struct bnc_sink {
	u8 *exec;
	s8 *t;
	u32 cols;
	const struct bnc_layout_ops *ops;
};

/* Blocks never straddle rows and start at multiples of 128 columns. */
static void bnc_sink_put(struct bnc_sink *s, u64 first, const u8 *c, u32 n)
{
	u32 m = first / s->cols, k = first % s->cols, i;

	if (s->t) {
		for (i = 0; i < n; i++)
			s->t[first + i] = (s8)c[i] - 1;
		return;
	}
	for (i = 0; i < n; i += BNC_CHUNK_COLS)
		s->ops->put16(s->exec, s->cols, m, k + i, c + i);
}

static int bnc_any_nonzero(const u8 *c, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (c[i] != 1)
			return 1;
	return 0;
}

/*
 * Decode every block of a packed tensor into @sink and find its one scale:
 * I2_S's tail; for TQ formats the scale all blocks with a non-zero weight
 * share (the first block's if the tensor is all zero).
 */
static int bnc_read_blocks(unsigned int fmt, const u8 *src, u32 rows, u32 cols,
			   struct bnc_sink *sink, u32 *scale_bits)
{
	const struct bnc_block_fmt *bf = bnc_block_fmt(fmt);
	u64 n = (u64)rows * cols, b, nblocks = n / bf->weights;
	u8 c[BNC_MAX_BLOCK_WEIGHTS];
	u32 bits = 0, first_bits = 0;
	int have = 0, ret;

	for (b = 0; b < nblocks; b++) {
		ret = bnc_block_read(fmt, src + b * bf->bytes, c, &bits);
		if (ret)
			return ret;
		if (b == 0)
			first_bits = bits;
		if (fmt != BNC_FMT_I2_S && bnc_any_nonzero(c, bf->weights)) {
			if (have && bits != *scale_bits)
				return -EINVAL;
			*scale_bits = bits;
			have = 1;
		}
		bnc_sink_put(sink, b * bf->weights, c, bf->weights);
	}
	if (fmt == BNC_FMT_I2_S)
		*scale_bits = bnc_get_le32(src + n / 4);
	else if (!have)
		*scale_bits = first_bits;
	return 0;
}

static int bnc_check_matrix(const struct bnc_matrix *w)
{
	if (!w || !w->data || ((unsigned long)w->data % BNC_BUF_ALIGN))
		return -EINVAL;
	return bnc_check_shape(w->rows, w->cols);
}

int bnc_repack_layout(struct bnc_matrix *dst, u32 layout, unsigned int fmt, const void *src,
		      size_t src_bytes)
{
	struct bnc_sink sink;
	u32 scale_bits = 0;
	size_t size;
	int ret;

	ret = bnc_check_matrix(dst);
	if (ret || !src || !bnc_layout_size(layout, dst->rows, dst->cols))
		return -EINVAL;
	size = fmt == BNC_FMT_EXEC ? bnc_layout_size(layout, dst->rows, dst->cols) :
				     bnc_packed_size(fmt, dst->rows, dst->cols);
	if (!size || size != src_bytes)
		return -EINVAL;
	if (fmt == BNC_FMT_EXEC) {
		ret = bnc_exec_validate(layout, src, dst->rows, dst->cols, &scale_bits);
		if (ret)
			return ret;
		memcpy(dst->data, src, size);
	} else {
		sink.exec = dst->data;
		sink.t = NULL;
		sink.cols = dst->cols;
		sink.ops = bnc_layout_ops(layout);
		sink.ops->begin(dst->data, dst->rows, dst->cols);
		ret = bnc_read_blocks(fmt, src, dst->rows, dst->cols, &sink, &scale_bits);
		if (ret)
			return ret;
		bnc_layout_end(layout, dst->data, dst->rows, dst->cols, scale_bits);
	}
	dst->scale_bits = scale_bits;
	dst->layout = layout;
	return 0;
}

int bnc_repack(struct bnc_matrix *dst, unsigned int fmt, const void *src, size_t src_bytes)
{
	return bnc_repack_layout(dst, BNC_LAYOUT_R16, fmt, src, src_bytes);
}

/*
 * The layout of a stored execution buffer of @bytes: the one its tail names
 * if that has this size (sizes alone can collide: R16 and LUT3 of 144 x 640
 * are both 23104 bytes), else R16 (then validation refuses it).
 */
static u32 bnc_exec_layout_of(const u8 *src, size_t bytes, u32 rows, u32 cols)
{
	u32 layout;

	if (!src || bytes < BNC_EXEC_TAIL)
		return BNC_LAYOUT_R16;
	layout = bnc_get_le32(src + bytes - BNC_EXEC_TAIL + 4);
	return bytes == bnc_layout_size(layout, rows, cols) ? layout : BNC_LAYOUT_R16;
}

int bnc_unpack(unsigned int fmt, const void *src, size_t src_bytes, u32 rows, u32 cols,
	       s8 *t, u32 *scale_bits)
{
	struct bnc_sink sink = { .exec = NULL, .t = t, .cols = cols };
	u32 layout = bnc_exec_layout_of(src, src_bytes, rows, cols), m, k;
	size_t size;
	int ret;

	size = fmt == BNC_FMT_EXEC ? bnc_layout_size(layout, rows, cols) :
				     bnc_packed_size(fmt, rows, cols);
	if (!src || !t || !scale_bits || !size || size != src_bytes)
		return -EINVAL;
	if (fmt != BNC_FMT_EXEC)
		return bnc_read_blocks(fmt, src, rows, cols, &sink, scale_bits);
	ret = bnc_exec_validate(layout, src, rows, cols, scale_bits);
	if (ret)
		return ret;
	for (m = 0; m < rows; m++)
		for (k = 0; k < cols; k++)
			t[(size_t)m * cols + k] =
				(s8)bnc_layout_ops(layout)->get(src, cols, m, k) - 1;
	return 0;
}

/* ---- writing ---- */

static int bnc_codes_of(const s8 *t, u8 *c, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		if (t[i] < -1 || t[i] > 1)
			return -EINVAL;
		c[i] = t[i] + 1;
	}
	return 0;
}

int bnc_pack(unsigned int fmt, const s8 *t, u32 rows, u32 cols, u32 scale_bits, void *dst,
	     size_t dst_bytes)
{
	const struct bnc_block_fmt *bf = bnc_block_fmt(fmt);
	size_t size = bnc_packed_size(fmt, rows, cols);
	u64 n = (u64)rows * cols, b;
	u8 c[BNC_MAX_BLOCK_WEIGHTS], *out = dst;
	u32 m, k;
	int ret;

	if (!t || !dst || !size || size != dst_bytes)
		return -EINVAL;
	if (fmt == BNC_FMT_EXEC) {
		bnc_exec_begin(out, rows, cols);
		for (m = 0; m < rows; m++) {
			for (k = 0; k < cols; k += BNC_CHUNK_COLS) {
				ret = bnc_codes_of(t + (size_t)m * cols + k, c, BNC_CHUNK_COLS);
				if (ret)
					return ret;
				bnc_exec_put16(out, cols, m, k, c);
			}
		}
		bnc_layout_end(BNC_LAYOUT_R16, out, rows, cols, scale_bits);
		return 0;
	}
	for (b = 0; b < n / bf->weights; b++) {
		ret = bnc_codes_of(t + b * bf->weights, c, bf->weights);
		if (ret)
			return ret;
		bnc_block_write(fmt, out + b * bf->bytes, c, scale_bits);
	}
	if (fmt == BNC_FMT_I2_S) {
		memset(out + n / 4, 0, 32);
		bnc_put_le32(out + n / 4, scale_bits);
	}
	return 0;
}
