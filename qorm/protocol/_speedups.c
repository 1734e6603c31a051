/*
 * qorm.protocol._speedups: kdb+'s IPC compression in C.
 *
 * A line-by-line mirror of the pure-Python codec in qorm/protocol/compress.py (see its module
 * docstring for the algorithm): the same output bytes, the same edge cases and the same
 * DeserializationError messages and byte offsets on corrupt frames. compress.py falls back to
 * its Python implementation when this module is missing (no C compiler at install time) or
 * QORM_NO_SPEEDUPS=1 is set.
 *
 * Safety: every read of the compressed stream is checked against its length, every write against
 * the claimed uncompressed size, and that size is checked against what the compressed bytes can
 * justify before the output is allocated. The checks depend on lengths only, never on the data,
 * so the work runs without the GIL: another thread mutating a bytearray being read can produce
 * garbage output, never an out-of-bounds access.
 *
 * Plain C API, no dependency beyond CPython.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

/* Buffers at least this large are worked on with the GIL released. */
#define RELEASE_GIL_AT ((size_t)1 << 16)

/* The most output one compressed byte can justify (a 2-byte match yields 257 bytes). */
#define MAX_RATIO 129

/* Errors of the decompression loop; the message is built (with the GIL) in decompress(). */
enum {
    OK = 0,
    ERR_ENDS_EARLY,
    ERR_ENDS_IN_MATCH,
    ERR_MATCH_PAST_END,
    ERR_LEFT_OVER,
};

/* ------------------------------------------------------------------------------------------ */
/* Input: any bytes-like object, as compress.py's bytes(message).                              */

/* Fill `view` with the bytes of `obj`. Contiguous buffers are read in place; anything else goes
 * through bytes(obj), exactly what the Python code does (same result, same errors). `*owned`
 * receives that temporary copy, if any, for the caller to release after the view. */
static int
get_bytes(PyObject *obj, Py_buffer *view, PyObject **owned)
{
    *owned = NULL;
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) == 0) {
        return 0;
    }
    PyErr_Clear();
    PyObject *copy = PyObject_CallOneArg((PyObject *)&PyBytes_Type, obj);
    if (copy == NULL) {
        return -1;
    }
    if (PyObject_GetBuffer(copy, view, PyBUF_SIMPLE) < 0) {
        Py_DECREF(copy);
        return -1;
    }
    *owned = copy;
    return 0;
}

static void
release_bytes(Py_buffer *view, PyObject *owned)
{
    PyBuffer_Release(view);
    Py_XDECREF(owned);
}

/* bytes(obj) given its view: obj itself when it is already exactly bytes. */
static PyObject *
as_bytes(PyObject *obj, PyObject *owned, const Py_buffer *view)
{
    if (owned != NULL) {
        Py_INCREF(owned);
        return owned;
    }
    if (PyBytes_CheckExact(obj)) {
        Py_INCREF(obj);
        return obj;
    }
    return PyBytes_FromStringAndSize((const char *)view->buf, view->len);
}

/* Raise qorm.exc.DeserializationError(message); imported on first use, so importing this module
 * never imports qorm.exc (no cycle while qorm itself is being imported). Returns NULL. */
static PyObject *
raise_deserialization(PyObject *message)
{
    if (message == NULL) {
        return NULL;
    }
    PyObject *exc_module = PyImport_ImportModule("qorm.exc");
    if (exc_module != NULL) {
        PyObject *cls = PyObject_GetAttrString(exc_module, "DeserializationError");
        Py_DECREF(exc_module);
        if (cls != NULL) {
            PyErr_SetObject(cls, message);
            Py_DECREF(cls);
        }
    }
    Py_DECREF(message);
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Compression                                                                                */

static inline void
put_u32(uint8_t *out, uint32_t value, int little)
{
    if (little) {
        out[0] = (uint8_t)value;
        out[1] = (uint8_t)(value >> 8);
        out[2] = (uint8_t)(value >> 16);
        out[3] = (uint8_t)(value >> 24);
    }
    else {
        out[0] = (uint8_t)(value >> 24);
        out[1] = (uint8_t)(value >> 16);
        out[2] = (uint8_t)(value >> 8);
        out[3] = (uint8_t)value;
    }
}

/* Extend a match: the first position in [s, q) where y[p + k] != y[s + k], or q. p < s; both
 * only read (overlap is fine). */
static inline size_t
match_end(const uint8_t *y, size_t p, size_t s, size_t q)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (s + 8 <= q) {
        uint64_t a, b;
        memcpy(&a, y + p, 8);
        memcpy(&b, y + s, 8);
        uint64_t x = a ^ b;
        if (x) {
            return s + ((size_t)__builtin_ctzll(x) >> 3);
        }
        p += 8;
        s += 8;
    }
#endif
    while (s < q && y[p] == y[s]) {
        p++;
        s++;
    }
    return s;
}

/* Compress y[0:t] (8 < t < 2**32, y[2] == 0) into out (at least max(t / 2, 12) bytes). Returns
 * the compressed size, or 0 when kdb+ would give up (the result would not be under half). */
static size_t
compress_core(const uint8_t *y, size_t t, uint8_t *out)
{
    uint32_t table[256];
    memset(table, 0, sizeof table);
    const int64_t give_up = (int64_t)(t / 2) - 17;
    const size_t limit = t - 3; /* no lookups in the last two bytes */
    unsigned f = 0, h = 0, h0 = 0;
    size_t s0 = 0; /* the last literal's position: hashed one step late, after the next lookup */
    size_t s = 8, ctl = 12, d = 12;

    memcpy(out, y, 4);
    out[2] = 1;
    while (s < t) {
        if ((int64_t)d > give_up) { /* kdb+ checks at the start of each group of 8 operations */
            return 0;
        }
        out[ctl] = (uint8_t)f;
        ctl = d++;
        f = 0;
        for (unsigned bit = 1; bit < 256; bit <<= 1) {
            if (s >= t) {
                break;
            }
            if (s <= limit) {
                h = y[s] ^ y[s + 1];
                size_t p = table[h];
                if (s0) {
                    table[h0] = (uint32_t)s0;
                    s0 = 0;
                }
                if (p && y[s] == y[p]) { /* same hash and first byte: two bytes match */
                    table[h] = (uint32_t)s;
                    f |= bit;
                    p += 2;
                    s += 2;
                    size_t r = s;
                    size_t q = s + 255 < t ? s + 255 : t;
                    s = match_end(y, p, s, q);
                    out[d] = (uint8_t)h;
                    out[d + 1] = (uint8_t)(s - r);
                    d += 2;
                    continue;
                }
            }
            else if (s0) {
                table[h0] = (uint32_t)s0;
                s0 = 0;
            }
            h0 = h;
            s0 = s;
            out[d++] = y[s++];
        }
    }
    out[ctl] = (uint8_t)f;
    int little = y[0] == 1;
    put_u32(out + 4, (uint32_t)d, little);
    put_u32(out + 8, (uint32_t)t, little);
    return d;
}

PyDoc_STRVAR(compress_doc,
             "compress(message, /)\n--\n\n"
             "The message compressed as kdb+ does it, or None when it is not compressed:\n"
             "4 GB or more, no body, compressed already, or the result would not be under half.");

static PyObject *
sp_compress(PyObject *module, PyObject *arg)
{
    (void)module;
    Py_buffer view;
    PyObject *owned;
    if (get_bytes(arg, &view, &owned) < 0) {
        return NULL;
    }
    const uint8_t *y = (const uint8_t *)view.buf;
    const size_t t = (size_t)view.len;
    if ((uint64_t)t >= ((uint64_t)1 << 32) || t <= 8 || y[2]) {
        release_bytes(&view, owned);
        Py_RETURN_NONE; /* too big for this framing, no body, or compressed already */
    }
    const size_t e = t / 2;
    PyObject *result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(e > 12 ? e : 12));
    if (result == NULL) {
        release_bytes(&view, owned);
        return NULL;
    }
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(result);
    size_t d;
    if (t >= RELEASE_GIL_AT) {
        Py_BEGIN_ALLOW_THREADS
        d = compress_core(y, t, out);
        Py_END_ALLOW_THREADS
    }
    else {
        d = compress_core(y, t, out);
    }
    release_bytes(&view, owned);
    if (d == 0) {
        Py_DECREF(result);
        Py_RETURN_NONE;
    }
    if (_PyBytes_Resize(&result, (Py_ssize_t)d) < 0) {
        return NULL;
    }
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* Decompression                                                                              */

/* Record positions lo..hi-1 in the hash table (the last one of each hash wins). */
static inline void
hash_range(size_t *table, const uint8_t *dst, size_t lo, size_t hi)
{
    for (size_t q = lo; q < hi; q++) {
        table[dst[q] ^ dst[q + 1]] = q;
    }
}

/* One 8-byte load and store. */
static inline void
copy8(uint8_t *to, const uint8_t *from)
{
    memcpy(to, from, 8);
}

/* How many literal (0) bits of control byte f start at bit i (i < 8, bit i clear). */
static inline unsigned
literal_run(unsigned f, unsigned i)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctz((f | 0x100u) >> i);
#else
    unsigned k = 1;
    while (i + k < 8 && !((f >> (i + k)) & 1)) {
        k++;
    }
    return k;
#endif
}

/* dst[s:s+len] = dst[r:r+len] copied forward byte by byte (repeating the period s - r when the
 * ranges overlap), as kdb+ does. `slack`: at least 8 writable bytes follow s + len, so whole
 * 8-byte chunks may overrun the end (the bytes past it are written again before being read:
 * the decoder reads only below s). */
static inline void
copy_match(uint8_t *dst, size_t r, size_t s, size_t len, int slack)
{
    const size_t dist = s - r; /* >= 2 */
    uint8_t *to = dst + s;
    if (!slack) {
        if (dist >= len) {
            memcpy(to, dst + r, len);
        }
        else {
            for (size_t m = 0; m < len; m++) {
                to[m] = dst[r + m];
            }
        }
        return;
    }
    if (dist >= 8) { /* each chunk reads only bytes written before it */
        const uint8_t *from = dst + r;
        for (size_t k = 0; k < len; k += 8) {
            copy8(to + k, from + k);
        }
        return;
    }
    /* a short period: the first 8 bytes one by one, then chunks from a multiple of the period
     * that is at least 8 back (dst is periodic from r on, so that is the same byte) */
    for (size_t m = 0; m < 8; m++) {
        to[m] = dst[r + m];
    }
    const size_t back = dist * ((8 + dist - 1) / dist);
    for (size_t k = 8; k < len; k += 8) {
        copy8(to + k, to + k - back);
    }
}

/* Decode the stream src[off:n] into dst[8:usize] (8 <= off <= n). Returns OK or an ERR_ code
 * with the offending byte offset in *err_pos. The fast paths (whole groups of literals, 8-byte
 * chunk copies) apply only where every byte they touch is in bounds, and give the same bytes. */
static int
decompress_core(const uint8_t *src, size_t n, size_t off, uint8_t *dst, size_t usize,
                size_t *err_pos)
{
    size_t table[256];
    memset(table, 0, sizeof table);
    size_t s = 8, p = 8; /* write position; first position not yet hashed */
    size_t d = off;      /* read position; d <= n throughout */

    while (s < usize) {
        if (d >= n) {
            *err_pos = d;
            return ERR_ENDS_EARLY;
        }
        const unsigned f = src[d++];
        if (f == 0 && usize - s >= 8 && n - d >= 8) { /* 8 literals */
            copy8(dst + s, src + d);
            s += 8;
            d += 8;
            continue;
        }
        if (n - d >= 24 && usize - s >= 8 * 257 + 8) {
            /* the whole group fits both buffers (at most 16 bytes in, 8 * 257 out, plus the
             * 8-byte chunks' overrun: a literal run starts at most 14 bytes in and copies 8):
             * the same steps without the bounds checks */
            for (unsigned i = 0; i < 8;) {
                if (!((f >> i) & 1)) {
                    const unsigned step = literal_run(f, i);
                    i += step;
                    copy8(dst + s, src + d);
                    d += step;
                    s += step;
                    continue;
                }
                i++;
                if (p + 1 < s) {
                    hash_range(table, dst, p, s - 1);
                    p = s - 1;
                }
                const size_t r = table[src[d]];
                const size_t len = (size_t)src[d + 1] + 2;
                d += 2;
                copy_match(dst, r, s, len, 1);
                if (p < s) {
                    table[dst[s - 1] ^ dst[s]] = s - 1;
                }
                table[dst[s] ^ dst[s + 1]] = s;
                s = p = s + len;
            }
            continue;
        }
        unsigned i = 0;
        while (i < 8 && s < usize) {
            if (!((f >> i) & 1)) {
                /* a run of literals (hashed lazily, before the next match) */
                size_t step = literal_run(f, i);
                i += (unsigned)step;
                if (step > usize - s) {
                    step = usize - s;
                }
                if (step > n - d) {
                    *err_pos = d;
                    return ERR_ENDS_EARLY;
                }
                if (usize - s >= 8 && n - d >= 8) {
                    copy8(dst + s, src + d); /* bytes past the run are written again later */
                }
                else {
                    memcpy(dst + s, src + d, step);
                }
                d += step;
                s += step;
                continue;
            }
            i++;
            if (n - d < 2) {
                *err_pos = d;
                return ERR_ENDS_IN_MATCH;
            }
            if (p + 1 < s) { /* the table must hold every position before s - 1 */
                hash_range(table, dst, p, s - 1);
                p = s - 1;
            }
            const size_t r = table[src[d]]; /* r <= s - 2: only earlier positions are hashed */
            const size_t len = (size_t)src[d + 1] + 2;
            d += 2;
            if (len > usize - s) {
                *err_pos = d - 2;
                return ERR_MATCH_PAST_END;
            }
            copy_match(dst, r, s, len, usize - s - len >= 8);
            if (p < s) { /* s - 1 and s; positions inside the match are never hashed */
                table[dst[s - 1] ^ dst[s]] = s - 1;
            }
            table[dst[s] ^ dst[s + 1]] = s;
            s = p = s + len;
        }
    }
    if (d != n) {
        *err_pos = d;
        return ERR_LEFT_OVER;
    }
    return OK;
}

static PyObject *
frame_error(size_t pos, PyObject *message)
{
    if (message == NULL) {
        return NULL;
    }
    PyObject *full = PyUnicode_FromFormat("bad compressed frame: %U (at byte offset %zu)", message,
                                          pos);
    Py_DECREF(message);
    return raise_deserialization(full);
}

static uint64_t
get_uint(const uint8_t *b, int width, int little)
{
    uint64_t v = 0;
    for (int k = 0; k < width; k++) {
        v |= (uint64_t)b[k] << (8 * (little ? k : width - 1 - k));
    }
    return v;
}

PyDoc_STRVAR(decompress_doc,
             "decompress(message, /)\n--\n\n"
             "The uncompressed message (header included, byte 2 cleared) of a compressed message;\n"
             "a message that is not compressed is returned as it is. A corrupt frame raises\n"
             "qorm.exc.DeserializationError naming the byte offset.");

static PyObject *
sp_decompress(PyObject *module, PyObject *arg)
{
    (void)module;
    Py_buffer view;
    PyObject *owned;
    if (get_bytes(arg, &view, &owned) < 0) {
        return NULL;
    }
    const uint8_t *src = (const uint8_t *)view.buf;
    const size_t n = (size_t)view.len;
    PyObject *err = NULL;

    /* the header, as qorm.protocol.header.parse_header checks it */
    if (n < 8) {
        err = PyUnicode_FromFormat("truncated message: %zu bytes, a header needs 8 (at byte offset 0)",
                                   n);
        goto fail;
    }
    if (src[0] > 1) {
        err = PyUnicode_FromFormat("invalid endianness byte %u (at byte offset 0)",
                                   (unsigned)src[0]);
        goto fail;
    }
    const int little = src[0] == 1;
    if (src[1] > 2) {
        err = PyUnicode_FromFormat("invalid message type %u (at byte offset 1)", (unsigned)src[1]);
        goto fail;
    }
    if (src[2] > 2) {
        err = PyUnicode_FromFormat("invalid compression flag %u (at byte offset 2)",
                                   (unsigned)src[2]);
        goto fail;
    }
    const uint64_t size = get_uint(src + 4, 4, little) + ((uint64_t)src[3] << 32);
    if (size < 8) {
        err = PyUnicode_FromFormat("message size %llu is below 8 (at byte offset 4)",
                                   (unsigned long long)size);
        goto fail;
    }
    if (src[2] == 0) {
        PyObject *plain = as_bytes(arg, owned, &view);
        release_bytes(&view, owned);
        return plain;
    }

    /* the frame: sizes checked before anything is allocated */
    const size_t off = src[2] == 1 ? 12 : 16;
    if (n < off || size != (uint64_t)n) {
        err = frame_error(4, PyUnicode_FromFormat("frame of %zu bytes, header says %llu", n,
                                                  (unsigned long long)size));
        goto fail;
    }
    const uint64_t usize = get_uint(src + 8, (int)(off - 8), little);
    if (usize < 8) {
        err = frame_error(8, PyUnicode_FromFormat("uncompressed size %llu is below 8",
                                                  (unsigned long long)usize));
        goto fail;
    }
    if (usize - 8 > (uint64_t)(n - off) * MAX_RATIO) {
        err = frame_error(8, PyUnicode_FromFormat("uncompressed size %llu is more than %zu bytes "
                                                  "can hold",
                                                  (unsigned long long)usize, n));
        goto fail;
    }
    if (usize > (uint64_t)PY_SSIZE_T_MAX) {
        release_bytes(&view, owned);
        return PyErr_NoMemory();
    }
    PyObject *result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)usize);
    if (result == NULL) {
        release_bytes(&view, owned);
        return NULL;
    }
    uint8_t *dst = (uint8_t *)PyBytes_AS_STRING(result);
    memcpy(dst, src, 8);
    dst[2] = 0;
    dst[3] = (uint8_t)(usize >> 32);
    put_u32(dst + 4, (uint32_t)usize, little);

    size_t pos = 0;
    int code;
    if (n >= RELEASE_GIL_AT || usize >= RELEASE_GIL_AT) {
        Py_BEGIN_ALLOW_THREADS
        code = decompress_core(src, n, off, dst, (size_t)usize, &pos);
        Py_END_ALLOW_THREADS
    }
    else {
        code = decompress_core(src, n, off, dst, (size_t)usize, &pos);
    }
    release_bytes(&view, owned);
    if (code == OK) {
        return result;
    }
    Py_DECREF(result);
    switch (code) {
    case ERR_ENDS_EARLY:
        return frame_error(pos, PyUnicode_FromString("stream ends early"));
    case ERR_ENDS_IN_MATCH:
        return frame_error(pos, PyUnicode_FromString("stream ends inside a match"));
    case ERR_MATCH_PAST_END:
        return frame_error(pos, PyUnicode_FromString("match runs past the uncompressed size"));
    default:
        return frame_error(pos,
                           PyUnicode_FromFormat("%zu bytes left over after the stream", n - pos));
    }

fail:
    release_bytes(&view, owned);
    if (err != NULL) { /* a header message not yet raised */
        return raise_deserialization(err);
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */

static PyMethodDef speedups_methods[] = {
    {"compress", sp_compress, METH_O, compress_doc},
    {"decompress", sp_decompress, METH_O, decompress_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot speedups_slots[] = {
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_GIL_DISABLED
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "qorm.protocol._speedups",
    .m_doc = "kdb+'s IPC compression in C: a byte-identical mirror of qorm.protocol.compress.",
    .m_size = 0,
    .m_methods = speedups_methods,
    .m_slots = speedups_slots,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
