/*
 * _flowfast: the flow collector's per-record and per-datagram loops, in C.
 *
 * Why C: measured on the bench's softflowd export (bench/bench_flows.py), the numpy/Python path
 * spends 200-270 ns of CPU a record in memory and 260-320 over UDP, against nfcapd's 75-165; the
 * issue's goal is nfcapd's CPU per record. Each part below replaced what the measurements showed:
 *
 * 1. SumTable: an open-addressing hash table (fixed-width keys of 1, 2, 4, 8, 16 or 32 bytes,
 *    linear probing, each key's exact 64-bit bytes, packets and record count in its slot), fed
 *    whole numpy columns of a FlowBatch. It replaces rollup.py's numpy group-bys (sorts of all
 *    addresses, bincounts, reduceat, ~140-180 ns a record: every batch re-sorted keys the
 *    interval had mostly seen already) with one hash per record and table (~30 ns for all seven).
 *    WHY not a library: numpy has no hash group-by; pandas' groupby costs more per call than a
 *    batch's rows and would be a new dependency; a Python dict costs ~1 us a key.
 * 2. Receiver: recvmmsg(2), up to `slots` datagrams per system call and wake-up, the GIL released
 *    while it blocks and lingers, returning the burst as one Datagrams (its payloads back to back
 *    in one allocation; Python sees (payload, exporter, arrival time) tuples, the C functions
 *    read the payloads in place) and the kernel's drop count (SO_MEMINFO once a call;
 *    SO_RXQ_OVFL where that is missing). Python's socket module has no recvmmsg; one
 *    recvmsg_into per datagram plus a wake-up each cost ~1.9 us a datagram (~65 ns a record),
 *    this ~0.8 with a tuple and bytes per datagram (mostly the kernel's copy, which nfcapd pays
 *    too), ~20% less as one Datagrams (v5 over UDP: ~70 -> ~63 ns a record in all).
 * 3. Decode helpers of the decoder's bulk path (its reference, the per-datagram path, stays in
 *    Python and is what the tests compare the bulk path with): by_version and join_group (the
 *    batch split by version and joined), walk_sets (batchwalk.walk_sets), and columns (the
 *    records of a template gathered from the joined datagrams straight into native-order
 *    columns; also templates.decode_columns' C twin of its numpy structured-dtype read).
 * 4. retain_freed_memory: mallopt so that a batch's multi-megabyte buffers are reused instead of
 *    returned to the kernel and faulted in again (a page fault per 4 kB, ~2.5 us on this VM).
 * 5. NetFlow v5 straight into the tables: v5_walk reads the headers where the datagrams are, and
 *    v5_rollup decodes their records in blocks of V5_BLOCK (in L1/L2) and adds each block to the
 *    seven tables one table at a time, without the joined buffer, the columns and the FlowBatch
 *    copies of the column path (in memory: ~65 -> ~34 ns a record for decode + rollup; over UDP
 *    CPU a record 1.5x nfcapd's -> about parity). Tables are cache-line aligned and at most half
 *    full, and runs of one key (state, interfaces) are summed in registers: ~5 ns less a record.
 *    A table starts as big as it ended the previous interval (SumTable's `expect`), and when it
 *    grows it prefetches the keys' new slots.
 *
 * The pure-Python/numpy path produces the same rollups and counters (tests/collectors/flows runs
 * every test on both; test_flowfast.py compares them on random and on fuzzed input).
 * Input is never trusted: every length and offset is checked against its buffer before a loop
 * reads it; a mismatch raises ValueError/TypeError, which the Python side counts and drops.
 */
#define PY_SSIZE_T_CLEAN
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <Python.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif
#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif
#define SK_MEMINFO_DROPS 8 /* linux/sock_diag.h: the socket's cumulative drop count */
#define SK_MEMINFO_VARS 9

/* ------------------------------------------------------------------------------------------ */
/* SumTable                                                                                    */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    Py_ssize_t ks;        /* key size in bytes */
    Py_ssize_t n;         /* keys held */
    size_t cap;           /* slots: a power of two */
    int shift;            /* 64 - log2(cap): a hash's top bits pick its slot */
    unsigned char *slots; /* cap slots: the key (zero-padded to 8 bytes), then uint64 bytes,
                             packets, records (two's complement int64); records == 0: empty */
    int busy;             /* a call is running with the GIL released */
} SumTable;

#define KEY_ROOM(ks) (((ks) + 7) & ~(Py_ssize_t)7)
#define GOLDEN 0x9E3779B97F4A7C15ULL
#define MIN_SLOTS 64

/* Fibonacci hashing (the slot is the product's top bits): one multiply for keys of 8 bytes or
 * less; longer keys fold their 64-bit words first. */
static inline __attribute__((always_inline)) uint64_t hash_key(const unsigned char *k, Py_ssize_t ks)
{
    if (ks <= 8) {
        uint64_t w = 0;
        memcpy(&w, k, (size_t)ks);
        return w * GOLDEN;
    }
    uint64_t h = 0;
    for (Py_ssize_t i = 0; i < ks; i += 8) {
        uint64_t w;
        memcpy(&w, k + i, 8);
        h = (h ^ w) * GOLDEN;
        h ^= h >> 29;
    }
    return h * GOLDEN;
}

/* `cap` zeroed slots of `stride` bytes, starting on a cache line: with malloc's 16-byte alignment
 * every other 32-byte slot of a large table straddled two lines (two misses a lookup). NULL when
 * out of memory or when the size overflows. */
static unsigned char *slots_alloc(size_t cap, size_t stride)
{
    if (cap > SIZE_MAX / stride)
        return NULL;
    void *p = NULL;
    if (posix_memalign(&p, 64, cap * stride) != 0)
        return NULL;
    memset(p, 0, cap * stride);
    return p;
}

/* Doubles the slots and re-inserts every key; 0, or -1 when out of memory (no exception set:
 * the GIL may be released). Keys move in windows of GROW_WINDOW: their new slots are computed and
 * prefetched first, then written. WHY: each move is a write to a random line of a table larger
 * than the cache; one at a time, the bench's 18k-key tables spent ~10% of the worker's CPU in
 * these misses. */
#define GROW_WINDOW 16
static int table_grow(SumTable *t)
{
    const Py_ssize_t room = KEY_ROOM(t->ks), stride = room + 24;
    if (t->cap > ((size_t)PY_SSIZE_T_MAX / 2) / (size_t)stride)
        return -1;
    size_t cap = t->cap * 2, mask = cap - 1;
    int shift = t->shift - 1;
    unsigned char *slots = slots_alloc(cap, (size_t)stride);
    if (slots == NULL)
        return -1;
    const unsigned char *from[GROW_WINDOW];
    size_t to[GROW_WINDOW];
    int w = 0;
    for (size_t j = 0; j <= t->cap; j++) {
        if (j < t->cap) {
            const unsigned char *old = t->slots + j * (size_t)stride;
            if (((const uint64_t *)(old + room))[2] == 0)
                continue;
            from[w] = old;
            to[w] = (size_t)(hash_key(old, t->ks) >> shift);
            __builtin_prefetch(slots + to[w] * (size_t)stride, 1);
            if (++w < GROW_WINDOW)
                continue;
        }
        for (int k = 0; k < w; k++) {
            size_t i = to[k];
            while (((const uint64_t *)(slots + i * (size_t)stride + room))[2] != 0)
                i = (i + 1) & mask;
            memcpy(slots + i * (size_t)stride, from[k], (size_t)stride);
        }
        w = 0;
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    t->shift = shift;
    return 0;
}

/* The sums of `key` (inserted as zeros when new); NULL when out of memory. Linear probing, at
 * most half full: a lookup is nearly always its first slot, one cache line (measured on the
 * bench's v5 export, 18k sources: ~4 ns a lookup less than at 70%, whose longer probe runs
 * mispredict; the price is up to twice the memory, ~64-128 bytes a key of 4 or 8 bytes). */
static inline __attribute__((always_inline)) uint64_t *
table_slot(SumTable *t, const unsigned char *key, Py_ssize_t ks)
{
    const Py_ssize_t room = KEY_ROOM(ks), stride = room + 24;
    uint64_t h = hash_key(key, ks);
    for (;;) {
        size_t mask = t->cap - 1, i = (size_t)(h >> t->shift);
        unsigned char *slot;
        uint64_t *sums;
        for (;;) {
            slot = t->slots + i * (size_t)stride;
            sums = (uint64_t *)(slot + room);
            if (sums[2] == 0)
                break;
            if (memcmp(slot, key, (size_t)ks) == 0)
                return sums;
            i = (i + 1) & mask;
        }
        if ((size_t)(t->n + 1) * 2 > t->cap) {
            if (table_grow(t) < 0)
                return NULL;
            continue;  /* probe again in the bigger table */
        }
        memcpy(slot, key, (size_t)ks);  /* the padding stays zero (slots_alloc) */
        t->n++;
        return sums;
    }
}

static inline __attribute__((always_inline)) int
table_add(SumTable *t, const unsigned char *key, Py_ssize_t ks, uint64_t b, uint64_t p)
{
    uint64_t *s = table_slot(t, key, ks);
    if (s == NULL)
        return -1;
    s[0] += b;  /* unsigned: wraps like numpy's int64 adds, never undefined */
    s[1] += p;
    s[2] += 1;
    return 0;
}

/* Starts loading the slot of `key` into the cache: tables of many keys (sources, conversations)
 * are a random access per record, and a lookup issued AHEAD records early has arrived by then. */
#define AHEAD 8
static inline __attribute__((always_inline)) void
table_prefetch(const SumTable *t, const unsigned char *key, Py_ssize_t ks)
{
    size_t i = (size_t)(hash_key(key, ks) >> t->shift);
    __builtin_prefetch(t->slots + i * (size_t)(KEY_ROOM(ks) + 24));
}

/* One loop per key size, so that the compiler sees a constant size in memcpy/memcmp. */
#define ADD_LOOP(KS)                                                                    \
    for (Py_ssize_t r = 0; r < n; r++) {                                                \
        if (r + AHEAD < n)                                                              \
            table_prefetch(t, keys + (r + AHEAD) * (KS), (KS));                         \
        if (table_add(t, keys + r * (KS), (KS), (uint64_t)bv[r], (uint64_t)pv[r]) < 0) \
            return -1;                                                                  \
    }                                                                                   \
    return 0;

/* Keys that repeat in runs (sampling state, interfaces): a run's sums are added up in registers
 * and into its slot once, when the key changes (the slot is looked up once a run; it cannot move
 * meanwhile: only an insert grows the table, and the run is flushed before the next lookup, which
 * is also what keeps a new slot from looking empty). */
#define ADD_LOOP_RUNS(KS, T)                                                             \
    {                                                                                    \
        T last = 0;                                                                      \
        uint64_t *s = NULL, rb = 0, rp = 0, rr = 0;                                      \
        for (Py_ssize_t r = 0; r < n; r++) {                                             \
            T k;                                                                         \
            memcpy(&k, keys + r * (KS), (KS));                                           \
            if (s == NULL || k != last) {                                                \
                if (s != NULL) {                                                         \
                    s[0] += rb;                                                          \
                    s[1] += rp;                                                          \
                    s[2] += rr;                                                          \
                }                                                                        \
                s = table_slot(t, keys + r * (KS), (KS));                                \
                if (s == NULL)                                                           \
                    return -1;                                                           \
                last = k;                                                                \
                rb = rp = rr = 0;                                                        \
            }                                                                            \
            rb += (uint64_t)bv[r];                                                       \
            rp += (uint64_t)pv[r];                                                       \
            rr += 1;                                                                     \
        }                                                                                \
        if (s != NULL) {                                                                 \
            s[0] += rb;                                                                  \
            s[1] += rp;                                                                  \
            s[2] += rr;                                                                  \
        }                                                                                \
        return 0;                                                                        \
    }

static int add_keys(SumTable *t, const unsigned char *keys, const int64_t *bv, const int64_t *pv,
                    Py_ssize_t n, int runs)
{
    if (runs) {
        switch (t->ks) {
        case 1: ADD_LOOP_RUNS(1, uint8_t)
        case 2: ADD_LOOP_RUNS(2, uint16_t)
        case 4: ADD_LOOP_RUNS(4, uint32_t)
        case 8: ADD_LOOP_RUNS(8, uint64_t)
        default: break;  /* wider keys: the plain loop */
        }
    }
    switch (t->ks) {
    case 1: ADD_LOOP(1)
    case 2: ADD_LOOP(2)
    case 4: ADD_LOOP(4)
    case 8: ADD_LOOP(8)
    case 16: ADD_LOOP(16)
    default: ADD_LOOP(32)
    }
}

static inline __attribute__((always_inline)) uint64_t pair4(const unsigned char *a, const unsigned char *c)
{
    uint32_t x, y;
    memcpy(&x, a, 4);
    memcpy(&y, c, 4);
    return x < y ? ((uint64_t)x << 32) | y : ((uint64_t)y << 32) | x;
}

static inline __attribute__((always_inline)) void pair16(unsigned char *key, const unsigned char *x,
                                                         const unsigned char *y)
{
    if (memcmp(x, y, 16) > 0) {
        const unsigned char *z = x;
        x = y;
        y = z;
    }
    memcpy(key, x, 16);
    memcpy(key + 16, y, 16);
}

/* Unordered pairs (conversations): the lower address first, as the numpy path orders them
 * (IPv4: numerically, key = lo << 32 | hi as a native uint64; IPv6: bytewise, lo16 || hi16). */
static int add_pairs(SumTable *t, const unsigned char *a, const unsigned char *c, const int64_t *bv,
                     const int64_t *pv, Py_ssize_t n)
{
    if (t->ks == 8) {
        for (Py_ssize_t r = 0; r < n; r++) {
            if (r + AHEAD < n) {
                uint64_t ahead = pair4(a + (r + AHEAD) * 4, c + (r + AHEAD) * 4);
                table_prefetch(t, (const unsigned char *)&ahead, 8);
            }
            uint64_t key = pair4(a + r * 4, c + r * 4);
            if (table_add(t, (const unsigned char *)&key, 8, (uint64_t)bv[r], (uint64_t)pv[r]) < 0)
                return -1;
        }
        return 0;
    }
    unsigned char key[32], ahead[32];
    for (Py_ssize_t r = 0; r < n; r++) {
        if (r + AHEAD < n) {
            pair16(ahead, a + (r + AHEAD) * 16, c + (r + AHEAD) * 16);
            table_prefetch(t, ahead, 32);
        }
        pair16(key, a + r * 16, c + r * 16);
        if (table_add(t, key, 32, (uint64_t)bv[r], (uint64_t)pv[r]) < 0)
            return -1;
    }
    return 0;
}

/* Services: proto << 16 | port, the port being the lower non-zero one for TCP/UDP/SCTP and 0 for
 * other protocols (rollup.service_keys). */
static int add_services(SumTable *t, const uint32_t *proto, const uint32_t *sport, const uint32_t *dport,
                        const int64_t *bv, const int64_t *pv, Py_ssize_t n)
{
    for (Py_ssize_t r = 0; r < n; r++) {
        uint32_t pr = proto[r], s = sport[r], d = dport[r], port;
        if (s && d)
            port = s < d ? s : d;
        else
            port = s ? s : d;
        if (pr != 6 && pr != 17 && pr != 132)
            port = 0;
        uint64_t key = ((uint64_t)pr << 16) | port;
        if (table_add(t, (const unsigned char *)&key, 8, (uint64_t)bv[r], (uint64_t)pv[r]) < 0)
            return -1;
    }
    return 0;
}

/* SumTable(key_size, expect=0): `expect` keys fit without growing (the rollup passes the size
 * the same table reached in the previous interval: growing re-inserts every key, a cache miss
 * each, ~10% of the worker's CPU on the bench's first interval). */
#define MAX_EXPECT ((Py_ssize_t)1 << 32)
static int SumTable_init(SumTable *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"key_size", "expect", NULL};
    Py_ssize_t ks, expect = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "n|n", kwlist, &ks, &expect))
        return -1;
    if (ks != 1 && ks != 2 && ks != 4 && ks != 8 && ks != 16 && ks != 32) {
        PyErr_Format(PyExc_ValueError, "SumTable key_size must be 1, 2, 4, 8, 16 or 32, not %zd", ks);
        return -1;
    }
    if (expect < 0 || expect > MAX_EXPECT) {
        PyErr_Format(PyExc_ValueError, "SumTable expect must be 0..2**32 keys, not %zd", expect);
        return -1;
    }
    if (self->slots != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "SumTable already initialized");
        return -1;
    }
    size_t cap = MIN_SLOTS;
    int shift = 64 - 6;  /* log2(MIN_SLOTS) */
    while ((size_t)expect * 2 > cap) {  /* at most half full, as table_slot keeps it */
        cap *= 2;
        shift--;
    }
    self->ks = ks;
    self->n = 0;
    self->cap = cap;
    self->shift = shift;
    self->slots = slots_alloc(cap, (size_t)(KEY_ROOM(ks) + 24));
    if (self->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void SumTable_dealloc(SumTable *self)
{
    free(self->slots);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Buffers of one call, released together. */
typedef struct {
    Py_buffer v[5];
    int held;
} Buffers;

static void release_all(Buffers *bufs)
{
    for (int i = 0; i < bufs->held; i++)
        PyBuffer_Release(&bufs->v[i]);
    bufs->held = 0;
}

static int get_buffer(Buffers *bufs, PyObject *obj, const char *what)
{
    Py_buffer *view = &bufs->v[bufs->held];
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_Format(PyExc_TypeError, "%s must be a C-contiguous array", what);
        return -1;
    }
    bufs->held++;
    return 0;
}

/* bytes and packets: int64 arrays of n values each. Returns n or -1. */
static Py_ssize_t volumes(Buffers *bufs, PyObject *b, PyObject *p)
{
    if (get_buffer(bufs, b, "bytes") < 0 || get_buffer(bufs, p, "packets") < 0)
        return -1;
    Py_buffer *vb = &bufs->v[bufs->held - 2], *vp = &bufs->v[bufs->held - 1];
    const char *fb = vb->format ? vb->format : "B", *fp = vp->format ? vp->format : "B";
    if (vb->itemsize != 8 || vp->itemsize != 8 || !strchr("lq", fb[strlen(fb) - 1]) ||
        !strchr("lq", fp[strlen(fp) - 1])) {
        PyErr_SetString(PyExc_TypeError, "bytes and packets must be int64 arrays");
        return -1;
    }
    if (vb->len != vp->len) {
        PyErr_Format(PyExc_ValueError, "bytes has %zd values, packets %zd", vb->len / 8, vp->len / 8);
        return -1;
    }
    return vb->len / 8;
}

static int check_len(Py_buffer *v, Py_ssize_t n, Py_ssize_t width, const char *what)
{
    if (v->len != n * width) {
        PyErr_Format(PyExc_ValueError, "%s has %zd bytes, expected %zd (%zd records of %zd)", what,
                     v->len, n * width, n, width);
        return -1;
    }
    return 0;
}

static int enter(SumTable *self)
{
    if (self->slots == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "SumTable not initialized");
        return -1;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "SumTable used by two threads at once");
        return -1;
    }
    self->busy = 1;
    return 0;
}

#define RELEASE_ABOVE 4096  /* records: smaller calls keep the GIL (the switch costs more) */

/* rc = CALL (an add on C memory only), with the GIL released when it has more than RELEASE_ABOVE
 * records */
#define RUN_ADD(rc, n, CALL)                  \
    do {                                      \
        if ((n) > RELEASE_ABOVE) {            \
            Py_BEGIN_ALLOW_THREADS            \
            (rc) = (CALL);                    \
            Py_END_ALLOW_THREADS              \
        } else {                              \
            (rc) = (CALL);                    \
        }                                     \
    } while (0)

/* The end of a SumTable add: the table free again, the buffers released; None, or MemoryError
 * when the add ran out of memory (rc < 0). */
static PyObject *add_done(SumTable *self, Buffers *bufs, int rc)
{
    self->busy = 0;
    release_all(bufs);
    if (rc < 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *SumTable_add(SumTable *self, PyObject *args)
{
    PyObject *ko, *bo, *po;
    int runs = 0;
    if (!PyArg_ParseTuple(args, "OOO|p:add", &ko, &bo, &po, &runs))
        return NULL;
    Buffers bufs = {.held = 0};
    Py_ssize_t n = volumes(&bufs, bo, po);
    if (n < 0 || get_buffer(&bufs, ko, "keys") < 0 || check_len(&bufs.v[2], n, self->ks, "keys") < 0 ||
        enter(self) < 0) {
        release_all(&bufs);
        return NULL;
    }
    int rc;
    const unsigned char *k = bufs.v[2].buf;
    const int64_t *bv = bufs.v[0].buf, *pv = bufs.v[1].buf;
    RUN_ADD(rc, n, add_keys(self, k, bv, pv, n, runs));
    return add_done(self, &bufs, rc);
}

static PyObject *SumTable_add_pairs(SumTable *self, PyObject *args)
{
    PyObject *ao, *co, *bo, *po;
    if (!PyArg_ParseTuple(args, "OOOO:add_pairs", &ao, &co, &bo, &po))
        return NULL;
    if (self->ks != 8 && self->ks != 32) {
        PyErr_SetString(PyExc_ValueError, "add_pairs needs a table of 8-byte (IPv4) or 32-byte (IPv6) keys");
        return NULL;
    }
    Py_ssize_t half = self->ks / 2;
    Buffers bufs = {.held = 0};
    Py_ssize_t n = volumes(&bufs, bo, po);
    if (n < 0 || get_buffer(&bufs, ao, "src") < 0 || check_len(&bufs.v[2], n, half, "src") < 0 ||
        get_buffer(&bufs, co, "dst") < 0 || check_len(&bufs.v[3], n, half, "dst") < 0 || enter(self) < 0) {
        release_all(&bufs);
        return NULL;
    }
    int rc;
    const unsigned char *a = bufs.v[2].buf, *c = bufs.v[3].buf;
    const int64_t *bv = bufs.v[0].buf, *pv = bufs.v[1].buf;
    RUN_ADD(rc, n, add_pairs(self, a, c, bv, pv, n));
    return add_done(self, &bufs, rc);
}

static PyObject *SumTable_add_services(SumTable *self, PyObject *args)
{
    PyObject *pro, *so, *dpo, *bo, *po;
    if (!PyArg_ParseTuple(args, "OOOOO:add_services", &pro, &so, &dpo, &bo, &po))
        return NULL;
    if (self->ks != 8) {
        PyErr_SetString(PyExc_ValueError, "add_services needs a table of 8-byte keys");
        return NULL;
    }
    Buffers bufs = {.held = 0};
    Py_ssize_t n = volumes(&bufs, bo, po);
    if (n < 0 || get_buffer(&bufs, pro, "proto") < 0 || check_len(&bufs.v[2], n, 4, "proto") < 0 ||
        get_buffer(&bufs, so, "sport") < 0 || check_len(&bufs.v[3], n, 4, "sport") < 0 ||
        get_buffer(&bufs, dpo, "dport") < 0 || check_len(&bufs.v[4], n, 4, "dport") < 0 ||
        enter(self) < 0) {
        release_all(&bufs);
        return NULL;
    }
    int rc;
    const uint32_t *pr = bufs.v[2].buf, *sp = bufs.v[3].buf, *dp = bufs.v[4].buf;
    const int64_t *bv = bufs.v[0].buf, *pv = bufs.v[1].buf;
    RUN_ADD(rc, n, add_services(self, pr, sp, dp, bv, pv, n));
    return add_done(self, &bufs, rc);
}

static PyObject *SumTable_result(SumTable *self, PyObject *Py_UNUSED(ignored))
{
    if (enter(self) < 0)
        return NULL;
    const Py_ssize_t n = self->n, ks = self->ks, room = KEY_ROOM(ks), stride = room + 24;
    PyObject *cols[4] = {NULL, NULL, NULL, NULL};
    PyObject *out = NULL;
    cols[0] = PyBytes_FromStringAndSize(NULL, n * ks);
    for (int c = 1; c < 4; c++)
        cols[c] = PyBytes_FromStringAndSize(NULL, n * 8);
    if (cols[0] == NULL || cols[1] == NULL || cols[2] == NULL || cols[3] == NULL)
        goto done;
    unsigned char *kd = (unsigned char *)PyBytes_AS_STRING(cols[0]);
    uint64_t *sd[3] = {(uint64_t *)PyBytes_AS_STRING(cols[1]), (uint64_t *)PyBytes_AS_STRING(cols[2]),
                       (uint64_t *)PyBytes_AS_STRING(cols[3])};
    Py_ssize_t e = 0;
    for (size_t j = 0; j < self->cap && e < n; j++) {
        const unsigned char *slot = self->slots + j * (size_t)stride;
        const uint64_t *sums = (const uint64_t *)(slot + room);
        if (sums[2] == 0)
            continue;
        memcpy(kd + e * ks, slot, (size_t)ks);
        for (int c = 0; c < 3; c++)
            sd[c][e] = sums[c];
        e++;
    }
    out = PyTuple_Pack(4, cols[0], cols[1], cols[2], cols[3]);
done:
    self->busy = 0;
    for (int c = 0; c < 4; c++)
        Py_XDECREF(cols[c]);
    return out;
}

static Py_ssize_t SumTable_len(SumTable *self)
{
    return self->n;
}

static PyObject *SumTable_get_key_size(SumTable *self, void *closure)
{
    return PyLong_FromSsize_t(self->ks);
}

static PyObject *SumTable_get_capacity(SumTable *self, void *closure)
{
    return PyLong_FromSize_t(self->cap);
}

static PyMethodDef SumTable_methods[] = {
    {"add", (PyCFunction)SumTable_add, METH_VARARGS,
     "add(keys, bytes, packets, runs=False): sum int64 bytes/packets and count records per key (keys: "
     "n * key_size bytes); `runs`: keys repeat in runs (state, interfaces), reuse the previous sums."},
    {"add_pairs", (PyCFunction)SumTable_add_pairs, METH_VARARGS,
     "add_pairs(src, dst, bytes, packets): per unordered address pair, the lower address first."},
    {"add_services", (PyCFunction)SumTable_add_services, METH_VARARGS,
     "add_services(proto, sport, dport, bytes, packets): per proto << 16 | service port (uint32 columns)."},
    {"result", (PyCFunction)SumTable_result, METH_NOARGS,
     "result() -> (keys, bytes, packets, records) as raw bytes (native-order int64 sums), in table order."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef SumTable_getset[] = {
    {"key_size", (getter)SumTable_get_key_size, NULL, "key width in bytes", NULL},
    {"capacity", (getter)SumTable_get_capacity, NULL, "slots (a power of two; grows past half full)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods SumTable_as_sequence = {
    .sq_length = (lenfunc)SumTable_len,
};

static PyTypeObject SumTableType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nocsoc.collectors.flows._flowfast.SumTable",
    .tp_doc = "SumTable(key_size, expect=0): exact 64-bit bytes/packets/records per fixed-width key; room for "
              "`expect` keys before it grows.",
    .tp_basicsize = sizeof(SumTable),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)SumTable_init,
    .tp_dealloc = (destructor)SumTable_dealloc,
    .tp_methods = SumTable_methods,
    .tp_getset = SumTable_getset,
    .tp_as_sequence = &SumTable_as_sequence,
};

/* ------------------------------------------------------------------------------------------ */
/* Datagrams                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* An immutable sequence of (payload, exporter, time) datagrams whose payloads stay where they
 * are: in the Receiver's burst storage (one allocation and one copy a burst), or in the bytes of
 * the tuples, or of other Datagrams, it views. Python sees a sequence of tuples (an item is made
 * on demand, its payload copied into a bytes); the C functions below read the payloads in place.
 * WHY: a bytes object and a tuple per datagram, allocated by the receiver thread and freed by the
 * worker, cost the receiver ~20% of its CPU (malloc's cross-thread slow path and the garbage
 * collector's passes over the young tuples, measured with perf); the decoder reads the payloads,
 * it never needs the objects. No reference cycle can form (exporters are str; owners are tuples
 * of bytes/str/float, memoryviews of a bytearray, or other Datagrams, all made before), so the
 * type is not GC-tracked. */
typedef struct {
    PyObject_HEAD
    Py_ssize_t n;
    const unsigned char **ptr; /* the four arrays share one allocation */
    Py_ssize_t *len;
    PyObject **exp;            /* owned references (str) */
    double *t;
    unsigned char *store;      /* payloads owned by this object (a Receiver burst), or NULL */
    PyObject *owners;          /* tuple: what `ptr` points into (views), or NULL */
} Datagrams;

static PyTypeObject DatagramsType;
#define Datagrams_Check(o) PyObject_TypeCheck((o), &DatagramsType)

/* A new Datagrams of `n` slots, exporters NULL until set (dealloc skips NULLs). */
static Datagrams *dg_alloc(Py_ssize_t n)
{
    if (n < 0 || (size_t)n > PY_SSIZE_T_MAX / (4 * sizeof(void *))) {
        PyErr_SetString(PyExc_OverflowError, "Datagrams: too many datagrams");
        return NULL;
    }
    Datagrams *d = PyObject_New(Datagrams, &DatagramsType);
    if (d == NULL)
        return NULL;
    d->n = 0;
    d->store = NULL;
    d->owners = NULL;
    size_t k = (size_t)(n ? n : 1);
    void *arrays = PyMem_Calloc(k, sizeof(*d->ptr) + sizeof(*d->len) + sizeof(*d->exp) + sizeof(*d->t));
    d->ptr = arrays;
    if (arrays == NULL) {
        d->len = NULL;
        d->exp = NULL;
        d->t = NULL;
        Py_DECREF(d);
        PyErr_NoMemory();
        return NULL;
    }
    d->exp = (PyObject **)(d->ptr + k);
    d->len = (Py_ssize_t *)(d->exp + k);
    d->t = (double *)(d->len + k);
    d->n = n;
    return d;
}

static void Datagrams_dealloc(Datagrams *self)
{
    if (self->exp != NULL) {
        for (Py_ssize_t i = 0; i < self->n; i++)
            Py_XDECREF(self->exp[i]);
    }
    PyMem_Free(self->ptr);
    free(self->store);
    Py_XDECREF(self->owners);
    PyObject_Free(self);
}

/* Datagram i as checked fields of a (bytes, str, float) tuple; -1 with TypeError naming `fn`. */
static int tuple_fields(PyObject *it, Py_ssize_t i, const char *fn, const unsigned char **p,
                        Py_ssize_t *len, PyObject **exp, double *t)
{
    if (!PyTuple_Check(it) || PyTuple_GET_SIZE(it) < 3 || !PyBytes_Check(PyTuple_GET_ITEM(it, 0)) ||
        !PyUnicode_Check(PyTuple_GET_ITEM(it, 1))) {
        PyErr_Format(PyExc_TypeError, "%s: datagram %zd is not a (bytes, str, float) tuple", fn, i);
        return -1;
    }
    double v = PyFloat_AsDouble(PyTuple_GET_ITEM(it, 2));
    if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Format(PyExc_TypeError, "%s: datagram %zd has no float time", fn, i);
        return -1;
    }
    *p = (const unsigned char *)PyBytes_AS_STRING(PyTuple_GET_ITEM(it, 0));
    *len = PyBytes_GET_SIZE(PyTuple_GET_ITEM(it, 0));
    *exp = PyTuple_GET_ITEM(it, 1);
    *t = v;
    return 0;
}

/* One flat Datagrams over `parts`, a sequence whose items are Datagrams or sequences of
 * (bytes, str, float) tuples; `parts` may also be one such sequence of tuples when `flat`. */
static Datagrams *dg_join(PyObject *parts_obj, int flat, const char *fn)
{
    PyObject *parts = PySequence_Fast(parts_obj, "datagrams must be a sequence");
    if (parts == NULL)
        return NULL;
    Py_ssize_t np = PySequence_Fast_GET_SIZE(parts), total = 0;
    PyObject **pv = PySequence_Fast_ITEMS(parts);
    PyObject *owners = NULL, *inner = NULL;
    Datagrams *out = NULL;
    if (flat) {
        total = np;
    } else {
        for (Py_ssize_t k = 0; k < np; k++) {
            Py_ssize_t m = Datagrams_Check(pv[k]) ? ((Datagrams *)pv[k])->n : PySequence_Size(pv[k]);
            if (m < 0)
                goto done;
            total += m;
        }
    }
    out = dg_alloc(total);
    owners = PyList_New(0);
    if (out == NULL || owners == NULL)
        goto fail;
    Py_ssize_t at = 0;
    for (Py_ssize_t k = 0; k < (flat ? 1 : np); k++) {
        PyObject *part = flat ? parts_obj : pv[k];
        if (!flat && Datagrams_Check(part)) {
            Datagrams *src = (Datagrams *)part;
            if (at + src->n > total) {
                PyErr_Format(PyExc_RuntimeError, "%s: a part changed size", fn);
                goto fail;
            }
            if (PyList_Append(owners, part) < 0)
                goto fail;
            for (Py_ssize_t i = 0; i < src->n; i++, at++) {
                out->ptr[at] = src->ptr[i];
                out->len[at] = src->len[i];
                out->t[at] = src->t[i];
                Py_INCREF(src->exp[i]);
                out->exp[at] = src->exp[i];
            }
            continue;
        }
        inner = flat ? (Py_INCREF(parts), parts) : PySequence_Fast(part, "datagrams must be a sequence");
        if (inner == NULL)
            goto fail;
        Py_ssize_t m = PySequence_Fast_GET_SIZE(inner);
        PyObject **items = PySequence_Fast_ITEMS(inner);
        if (at + m > total) {
            PyErr_Format(PyExc_RuntimeError, "%s: a part changed size", fn);
            goto fail;
        }
        for (Py_ssize_t i = 0; i < m; i++, at++) {
            PyObject *e;
            if (tuple_fields(items[i], at, fn, &out->ptr[at], &out->len[at], &e, &out->t[at]) < 0 ||
                PyList_Append(owners, items[i]) < 0)
                goto fail;
            Py_INCREF(e);
            out->exp[at] = e;
        }
        Py_CLEAR(inner);
    }
    if (at != total) {
        PyErr_Format(PyExc_RuntimeError, "%s: a part changed size", fn);
        goto fail;
    }
    out->owners = PyList_AsTuple(owners);
    if (out->owners == NULL)
        goto fail;
    goto done;
fail:
    Py_CLEAR(out);
done:
    Py_XDECREF(inner);
    Py_XDECREF(owners);
    Py_DECREF(parts);
    return out;
}

/* The datagrams of `obj` as a Datagrams: itself (a new reference), or a view over its tuples. */
static Datagrams *dg_from(PyObject *obj, const char *fn)
{
    if (Datagrams_Check(obj)) {
        Py_INCREF(obj);
        return (Datagrams *)obj;
    }
    return dg_join(obj, 1, fn);
}

/* A view of the `k` datagrams of `src` at `idx` (or start, start + step, ... when idx is NULL). */
static Datagrams *dg_select(Datagrams *src, const Py_ssize_t *idx, Py_ssize_t k, Py_ssize_t start,
                            Py_ssize_t step)
{
    Datagrams *out = dg_alloc(k);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t j = 0; j < k; j++) {
        Py_ssize_t i = idx ? idx[j] : start + j * step;
        out->ptr[j] = src->ptr[i];
        out->len[j] = src->len[i];
        out->t[j] = src->t[i];
        Py_INCREF(src->exp[i]);
        out->exp[j] = src->exp[i];
    }
    out->owners = PyTuple_Pack(1, (PyObject *)src);
    if (out->owners == NULL) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

static Py_ssize_t Datagrams_len(Datagrams *self)
{
    return self->n;
}

static PyObject *Datagrams_item(Datagrams *self, Py_ssize_t i)
{
    if (i < 0 || i >= self->n) {
        PyErr_SetString(PyExc_IndexError, "Datagrams index out of range");
        return NULL;
    }
    return Py_BuildValue("(y#Od)", (const char *)self->ptr[i], self->len[i], self->exp[i], self->t[i]);
}

static PyObject *Datagrams_subscript(Datagrams *self, PyObject *key)
{
    if (PySlice_Check(key)) {
        Py_ssize_t start, stop, step;
        if (PySlice_Unpack(key, &start, &stop, &step) < 0)
            return NULL;
        Py_ssize_t k = PySlice_AdjustIndices(self->n, &start, &stop, step);
        return (PyObject *)dg_select(self, NULL, k, start, step);
    }
    Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred())
        return NULL;
    return Datagrams_item(self, i < 0 ? i + self->n : i);
}

static PyObject *Datagrams_join(PyTypeObject *cls, PyObject *parts)
{
    return (PyObject *)dg_join(parts, 0, "Datagrams.join");
}

static PyObject *Datagrams_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *seq = NULL;
    static char *kwlist[] = {"datagrams", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:Datagrams", kwlist, &seq))
        return NULL;
    if (seq == NULL)
        return (PyObject *)dg_alloc(0);
    return (PyObject *)dg_from(seq, "Datagrams");
}

static PyObject *Datagrams_exporters(Datagrams *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *out = PySet_New(NULL);
    for (Py_ssize_t i = 0; out != NULL && i < self->n; i++) {
        if ((i == 0 || self->exp[i] != self->exp[i - 1]) && PySet_Add(out, self->exp[i]) < 0)
            Py_CLEAR(out);
    }
    return out;
}

static PyObject *Datagrams_payload_bytes(Datagrams *self, PyObject *Py_UNUSED(ignored))
{
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < self->n; i++)
        total += self->len[i];
    return PyLong_FromSsize_t(total);
}

/* by_exporter() -> [(exporter, Datagrams)]: the datagrams of each exporter as a view, exporters in
 * first-seen order, arrival order kept in each. WHY: the bus publisher cuts its batches per
 * source; grouping tuples in Python cost a tuple and a bytes per datagram (the pump's copy) and a
 * dict step each. Exporters are compared by identity first (a burst's are one object per sender),
 * then by value. */
static PyObject *Datagrams_by_exporter(Datagrams *self, PyObject *Py_UNUSED(ignored))
{
    const Py_ssize_t n = self->n;
    PyObject *out = NULL, *groups = PyDict_New();
    Py_ssize_t *gid = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n ? 2 * n : 1));
    Py_ssize_t *count = NULL;
    if (groups == NULL || gid == NULL)
        goto fail;
    Py_ssize_t ng = 0, last = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i > 0 && self->exp[i] == self->exp[i - 1]) {
            gid[i] = last;
            continue;
        }
        PyObject *g = PyDict_GetItemWithError(groups, self->exp[i]);
        if (g == NULL) {
            if (PyErr_Occurred())
                goto fail;
            PyObject *v = PyLong_FromSsize_t(ng);
            if (v == NULL || PyDict_SetItem(groups, self->exp[i], v) < 0) {
                Py_XDECREF(v);
                goto fail;
            }
            Py_DECREF(v);
            last = ng++;
        } else {
            last = PyLong_AsSsize_t(g);
        }
        gid[i] = last;
    }
    count = PyMem_Calloc((size_t)(ng ? ng : 1), sizeof(Py_ssize_t));
    out = PyList_New(ng);
    if (count == NULL || out == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++)
        count[gid[i]]++;
    /* positions of each group back to back in the second half of gid, in arrival order */
    Py_ssize_t *pos = gid + n;
    Py_ssize_t *start = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(ng ? ng : 1));
    if (start == NULL)
        goto fail;
    for (Py_ssize_t g = 0, at = 0; g < ng; g++) {
        start[g] = at;
        at += count[g];
        count[g] = 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t g = gid[i];
        pos[start[g] + count[g]++] = i;
    }
    for (Py_ssize_t g = 0; g < ng; g++) {
        Datagrams *view = dg_select(self, pos + start[g], count[g], 0, 0);
        PyObject *item = view == NULL ? NULL : PyTuple_Pack(2, self->exp[pos[start[g]]], (PyObject *)view);
        Py_XDECREF(view);
        if (item == NULL) {
            PyMem_Free(start);
            goto fail;
        }
        PyList_SET_ITEM(out, g, item);
    }
    PyMem_Free(start);
    goto done;
fail:
    Py_CLEAR(out);
done:
    PyMem_Free(gid);
    PyMem_Free(count);
    Py_XDECREF(groups);
    return out;
}

static PyMethodDef Datagrams_methods[] = {
    {"payload_bytes", (PyCFunction)Datagrams_payload_bytes, METH_NOARGS,
     "payload_bytes() -> int: the sum of the payloads' lengths."},
    {"by_exporter", (PyCFunction)Datagrams_by_exporter, METH_NOARGS,
     "by_exporter() -> list[(exporter, Datagrams)]: a view of each exporter's datagrams, exporters in "
     "first-seen order, arrival order kept."},
    {"exporters", (PyCFunction)Datagrams_exporters, METH_NOARGS,
     "exporters() -> set[str]: the exporters of the datagrams (without making their tuples)."},
    {"join", (PyCFunction)Datagrams_join, METH_O | METH_CLASS,
     "join(parts) -> Datagrams: one sequence over parts that are Datagrams or lists of (bytes, str, float) "
     "tuples, in order, without copying a payload."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods Datagrams_as_sequence = {
    .sq_length = (lenfunc)Datagrams_len,
    .sq_item = (ssizeargfunc)Datagrams_item,
};

static PyMappingMethods Datagrams_as_mapping = {
    .mp_length = (lenfunc)Datagrams_len,
    .mp_subscript = (binaryfunc)Datagrams_subscript,
};

static PyTypeObject DatagramsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nocsoc.collectors.flows._flowfast.Datagrams",
    .tp_doc = "Datagrams(datagrams=()): an immutable sequence of (payload, exporter, time) tuples whose payloads "
              "the C functions read in place (a Receiver burst, or a view of other datagrams).",
    .tp_basicsize = sizeof(Datagrams),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Datagrams_new,
    .tp_dealloc = (destructor)Datagrams_dealloc,
    .tp_as_sequence = &Datagrams_as_sequence,
    .tp_as_mapping = &Datagrams_as_mapping,
    .tp_methods = Datagrams_methods,
};

/* ------------------------------------------------------------------------------------------ */
/* Receiver                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* Each datagram slot is two pieces: HEAD bytes in one compact area (the slots back to back), and
 * the rest of a 64 kB maximum in a tail area touched only by larger datagrams. WHY: with one
 * 64 kB slot each, a burst wrote its usual ~1.5 kB datagrams 64 kB apart, a page and cache sets
 * each (measured: ~10% more CPU a datagram than with compact slots). */
#define HEAD 2048
#define TAIL (65536 - HEAD)
#define CTRL_LEN 64 /* room for SO_RXQ_OVFL's cmsg (and a spare) */

typedef struct {
    PyObject_HEAD
    int fd;
    unsigned int slots;
    unsigned char *buf;
    struct mmsghdr *msgs;
    struct iovec *iov;
    struct sockaddr_storage *addrs;
    unsigned char *ctrl;
    struct sockaddr_storage last_addr; /* the last exporter, and its string (most bursts have one) */
    socklen_t last_len;
    PyObject *last_str;
    int busy;
    int meminfo; /* read the drop count with SO_MEMINFO once a call, not SO_RXQ_OVFL per datagram */
} Receiver;

static int Receiver_init(Receiver *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"fd", "slots", "meminfo", NULL};
    int fd, meminfo = 0;
    unsigned int slots = 64;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "i|Ip", kwlist, &fd, &slots, &meminfo))
        return -1;
    if (fd < 0 || slots == 0 || slots > 1024) {
        PyErr_Format(PyExc_ValueError, "Receiver needs an open socket and 1..1024 slots (fd %d, slots %u)",
                     fd, slots);
        return -1;
    }
    if (self->buf != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Receiver already initialized");
        return -1;
    }
    self->fd = fd;
    self->slots = slots;
    self->meminfo = meminfo;
    self->buf = malloc((size_t)slots * 65536);  /* slots * HEAD, then slots * TAIL */
    self->msgs = calloc(slots, sizeof(struct mmsghdr));
    self->iov = calloc((size_t)slots * 2, sizeof(struct iovec));
    self->addrs = calloc(slots, sizeof(struct sockaddr_storage));
    self->ctrl = calloc(slots, CTRL_LEN);
    if (self->buf == NULL || self->msgs == NULL || self->iov == NULL || self->addrs == NULL ||
        self->ctrl == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (unsigned int i = 0; i < slots; i++) {
        self->iov[2 * i].iov_base = self->buf + (size_t)i * HEAD;
        self->iov[2 * i].iov_len = HEAD;
        self->iov[2 * i + 1].iov_base = self->buf + (size_t)slots * HEAD + (size_t)i * TAIL;
        self->iov[2 * i + 1].iov_len = TAIL;
        self->msgs[i].msg_hdr.msg_iov = &self->iov[2 * i];
        self->msgs[i].msg_hdr.msg_iovlen = 2;
        self->msgs[i].msg_hdr.msg_name = &self->addrs[i];
    }
    return 0;
}

static void Receiver_dealloc(Receiver *self)
{
    free(self->buf);
    free(self->msgs);
    free(self->iov);
    free(self->addrs);
    free(self->ctrl);
    Py_XDECREF(self->last_str);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The exporter's address as Python's socket module writes it (addr[0]). */
static PyObject *address_str(Receiver *self, const struct sockaddr_storage *sa, socklen_t len)
{
    if (self->last_str != NULL && len == self->last_len && memcmp(sa, &self->last_addr, len) == 0) {
        Py_INCREF(self->last_str);
        return self->last_str;
    }
    char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    if (sa->ss_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        if (inet_ntop(AF_INET, &s4->sin_addr, text, sizeof(text)) == NULL)
            return PyErr_SetFromErrno(PyExc_OSError);
    } else if (sa->ss_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        if (inet_ntop(AF_INET6, &s6->sin6_addr, text, sizeof(text)) == NULL)
            return PyErr_SetFromErrno(PyExc_OSError);
        if (s6->sin6_scope_id) {  /* link-local: "addr%interface", like socket.recvmsg */
            char name[IF_NAMESIZE];
            size_t used = strlen(text);
            if (if_indextoname(s6->sin6_scope_id, name) != NULL)
                snprintf(text + used, sizeof(text) - used, "%%%s", name);
            else
                snprintf(text + used, sizeof(text) - used, "%%%u", (unsigned)s6->sin6_scope_id);
        }
    } else {
        snprintf(text, sizeof(text), "unknown-family-%d", (int)sa->ss_family);
    }
    PyObject *s = PyUnicode_FromString(text);
    if (s == NULL)
        return NULL;
    Py_XSETREF(self->last_str, s);
    memcpy(&self->last_addr, sa, len);
    self->last_len = len;
    Py_INCREF(s);
    return s;
}

/* After a first read of `got` datagrams (fewer than the slots): sleep `linger` seconds, then take
 * what has arrived meanwhile. Runs without the GIL. WHY a sleep and not poll(): a paced exporter
 * would wake a poll() once per datagram (a context switch each, ~1.5 us here); one sleep gathers
 * the datagrams of the whole linger for one wake-up. Returns the new count. */
static int linger_more(Receiver *self, int got, double linger)
{
    struct timespec wait = {.tv_sec = (time_t)linger, .tv_nsec = (long)((linger - (double)(time_t)linger) * 1e9)};
    while (nanosleep(&wait, &wait) != 0 && errno == EINTR)
        ;  /* a signal: sleep the rest (the GIL holder handles it) */
    int more = recvmmsg(self->fd, self->msgs + got, self->slots - (unsigned int)got, MSG_DONTWAIT, NULL);
    return more > 0 ? got + more : got;
}

/* The socket's cumulative drop count (the one SO_RXQ_OVFL attaches to datagrams), or -1 where
 * SO_MEMINFO cannot be read. WHY: one getsockopt a burst instead of a control message the kernel
 * writes out with every datagram once any was dropped (measured: ~3 ns a record of the receiver's
 * CPU with SO_RXQ_OVFL on, even with none dropped). */
static long long meminfo_drops(int fd)
{
    uint32_t info[SK_MEMINFO_VARS];
    socklen_t len = sizeof(info);
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &len) != 0 ||
        len < (socklen_t)((SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)))
        return -1;
    return info[SK_MEMINFO_DROPS];
}

static PyObject *Receiver_recv(Receiver *self, PyObject *args)
{
    int block = 1;
    double linger = 0.0;
    if (!PyArg_ParseTuple(args, "|pd:recv", &block, &linger))
        return NULL;
    if (!(linger >= 0.0 && linger <= 1.0)) {
        PyErr_SetString(PyExc_ValueError, "linger must be 0..1 s");
        return NULL;
    }
    if (self->buf == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Receiver not initialized");
        return NULL;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Receiver used by two threads at once");
        return NULL;
    }
    for (unsigned int i = 0; i < self->slots; i++) {
        struct msghdr *h = &self->msgs[i].msg_hdr;
        h->msg_namelen = sizeof(struct sockaddr_storage);
        h->msg_control = self->ctrl + (size_t)i * CTRL_LEN;
        h->msg_controllen = CTRL_LEN;
        h->msg_flags = 0;
        self->msgs[i].msg_len = 0;
    }
    int got, err = 0;
    long long overflow = -1;
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    /* blocking: wait for one datagram, then take what else is queued without waiting */
    got = recvmmsg(self->fd, self->msgs, self->slots, block ? MSG_WAITFORONE : MSG_DONTWAIT, NULL);
    if (got < 0)
        err = errno;
    else if (got > 0 && (unsigned int)got < self->slots && linger > 0.0)
        got = linger_more(self, got, linger);
    if (self->meminfo)
        overflow = meminfo_drops(self->fd);  /* after the reads: drops up to the last one read */
    Py_END_ALLOW_THREADS
    self->busy = 0;
    if (got < 0) {
        if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
            if (err == EINTR && PyErr_CheckSignals() < 0)
                return NULL;
            return Py_BuildValue("([]iL)", 0, overflow);
        }
        errno = err;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);  /* what time.time() reads */
    const double now = (double)ts.tv_sec + ts.tv_nsec * 1e-9;
    /* one storage for the burst's payloads, back to back (see Datagrams) */
    Py_ssize_t kept = 0, total = 0;
    for (int i = 0; i < got; i++) {
        struct msghdr *h = &self->msgs[i].msg_hdr;
        for (struct cmsghdr *c = self->meminfo ? NULL : CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL &&
                c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
                uint32_t drops;
                memcpy(&drops, CMSG_DATA(c), sizeof(drops));
                overflow = drops;
            }
        }
        unsigned int len = self->msgs[i].msg_len;
        if (len > HEAD + TAIL)
            self->msgs[i].msg_len = len = HEAD + TAIL;
        if (len > 0) {  /* 0: stop()'s wake-up, or an empty datagram: never a flow export */
            kept++;
            total += len;
        }
    }
    if (kept == 0)
        return Py_BuildValue("([]iL)", got, overflow);
    Datagrams *out = dg_alloc(kept);
    if (out == NULL)
        return NULL;
    out->store = malloc((size_t)total);
    if (out->store == NULL) {
        Py_DECREF(out);
        return PyErr_NoMemory();
    }
    unsigned char *dst = out->store;
    Py_ssize_t k = 0;
    for (int i = 0; i < got; i++) {
        unsigned int len = self->msgs[i].msg_len;
        if (len == 0)
            continue;
        memcpy(dst, self->iov[2 * i].iov_base, len < HEAD ? len : HEAD);
        if (len > HEAD)
            memcpy(dst + HEAD, self->iov[2 * i + 1].iov_base, len - HEAD);
        PyObject *addr = address_str(self, &self->addrs[i], self->msgs[i].msg_hdr.msg_namelen);
        if (addr == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        out->ptr[k] = dst;
        out->len[k] = len;
        out->exp[k] = addr;
        out->t[k] = now;
        k++;
        dst += len;
    }
    return Py_BuildValue("(NiL)", (PyObject *)out, got, overflow);
}

static PyMethodDef Receiver_methods[] = {
    {"recv", (PyCFunction)Receiver_recv, METH_VARARGS,
     "recv(block=True, linger=0.0) -> (datagrams, received, overflow): up to `slots` datagrams by "
     "recvmmsg (blocking for the first when `block`, then, if the slots are not full, sleeping `linger` "
     "seconds and taking what came meanwhile); datagrams: a Datagrams of (payload, exporter, time.time()) "
     "without empty ones ([] when none); received counts every datagram read (0: none was waiting); overflow is the socket's "
     "cumulative drop count: read by SO_MEMINFO after the reads when the Receiver was made with "
     "meminfo=True, else the last SO_RXQ_OVFL count seen; -1 when neither was available."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ReceiverType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nocsoc.collectors.flows._flowfast.Receiver",
    .tp_doc = "Receiver(fd, slots=64, meminfo=False): batch receive (recvmmsg) from a bound UDP socket it "
              "does not own; meminfo: read the kernel's drop count with SO_MEMINFO once a call.",
    .tp_basicsize = sizeof(Receiver),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Receiver_init,
    .tp_dealloc = (destructor)Receiver_dealloc,
    .tp_methods = Receiver_methods,
};

/* ------------------------------------------------------------------------------------------ */
/* Record gathering and columns (decode)                                                      */
/* ------------------------------------------------------------------------------------------ */

static inline uint64_t load_be(const unsigned char *p, Py_ssize_t len)
{
    uint64_t v = 0;
    for (Py_ssize_t k = 0; k < len; k++)
        v = (v << 8) | p[k];  /* past 8 bytes only the low 64 bits stay, as numpy's uint64 weights */
    return v;
}

/* Fixed-width big-endian loads: one load and a byte swap (gcc does not turn load_be's loop into
 * that, and the loop costs ~2 ns a field). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define BE16(x) (x)
#define BE32(x) (x)
#define BE64(x) (x)
#else
#define BE16(x) __builtin_bswap16(x)
#define BE32(x) __builtin_bswap32(x)
#define BE64(x) __builtin_bswap64(x)
#endif

static inline uint16_t load16(const unsigned char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return BE16(v);
}

static inline uint32_t load32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return BE32(v);
}

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return BE64(v);
}

#define MAX_FIELDS 128
enum { OP_U8, OP_U16, OP_U32, OP_U64, OP_WIDE, OP_RAW, OP_U8_32, OP_U16_32 };
typedef struct {
    unsigned char *dst;
    Py_ssize_t off, len;
    int op;
} Field;

/* columns(buf, record_size, fields, offsets=None) -> list[bytearray]: fields are (offset, length,
 * kind) with kind 0 = big-endian unsigned of `length` (1, 2, 4, 8) into the same width, native
 * order; 1 = raw copy of `length` bytes (IPv6 addresses); 2 = big-endian unsigned of any length
 * into a uint64 (IPFIX reduced-size encodings); 3 = big-endian unsigned of 1, 2 or 4 bytes into a
 * uint32 (what the batch widens them to anyway). Records are back to back in `buf`, or at the
 * int64 `offsets` (each checked): gathering and splitting into columns in one pass.
 * WHY: np.frombuffer with a structured dtype and then one byte-swapping astype per field copies
 * each field twice through numpy's generic strided loops (~25 ns a record here). */
static PyObject *ff_columns(PyObject *mod, PyObject *args)
{
    PyObject *bo, *fo, *oo = Py_None;
    Py_ssize_t size;
    if (!PyArg_ParseTuple(args, "OnO|O:columns", &bo, &size, &fo, &oo))
        return NULL;
    if (size <= 0) {
        PyErr_SetString(PyExc_ValueError, "columns: record_size must be positive");
        return NULL;
    }
    PyObject *fields = PySequence_Fast(fo, "columns: fields must be a sequence");
    if (fields == NULL)
        return NULL;
    Buffers bufs = {.held = 0};
    PyObject *out = NULL;
    if (get_buffer(&bufs, bo, "buf") < 0)
        goto fail;
    const unsigned char *src = bufs.v[0].buf;
    Py_ssize_t n = bufs.v[0].len / size;
    const int64_t *offsets = NULL;  /* records at these offsets, else back to back */
    if (oo != Py_None) {
        if (get_buffer(&bufs, oo, "offsets") < 0)
            goto fail;
        Py_buffer *vo = &bufs.v[1];
        const char *fmt = vo->format ? vo->format : "B";
        if (vo->itemsize != 8 || !strchr("lq", fmt[strlen(fmt) - 1])) {
            PyErr_SetString(PyExc_TypeError, "columns: offsets must be an int64 array");
            goto fail;
        }
        offsets = vo->buf;
        n = vo->len / 8;
        for (Py_ssize_t r = 0; r < n; r++) {
            if (offsets[r] < 0 || offsets[r] > bufs.v[0].len - size) {
                PyErr_Format(PyExc_ValueError, "columns: record %zd at offset %lld overruns the %zd-byte buffer",
                             r, (long long)offsets[r], bufs.v[0].len);
                goto fail;
            }
        }
    }
    Py_ssize_t nf = PySequence_Fast_GET_SIZE(fields);
    out = PyList_New(nf);
    if (out == NULL)
        goto fail;
    if (nf > MAX_FIELDS) {
        PyErr_Format(PyExc_ValueError, "columns: %zd fields, at most %d", nf, MAX_FIELDS);
        goto fail;
    }
    Field spec[MAX_FIELDS];
    for (Py_ssize_t f = 0; f < nf; f++) {
        Py_ssize_t off, len;
        int kind;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fields, f), "nni:field", &off, &len, &kind))
            goto fail;
        if (off < 0 || len <= 0 || off > size - len || kind < 0 || kind > 3 ||
            (kind == 0 && len != 1 && len != 2 && len != 4 && len != 8) ||
            (kind == 3 && len != 1 && len != 2 && len != 4)) {
            PyErr_Format(PyExc_ValueError, "columns: field (%zd, %zd, %d) does not fit a %zd-byte record",
                         off, len, kind, size);
            goto fail;
        }
        Py_ssize_t width = kind == 2 ? 8 : kind == 3 ? 4 : len;
        PyObject *col = PyByteArray_FromStringAndSize(NULL, n * width);  /* writable columns */
        if (col == NULL)
            goto fail;
        PyList_SET_ITEM(out, f, col);
        spec[f].dst = (unsigned char *)PyByteArray_AS_STRING(col);
        spec[f].off = off;
        spec[f].len = len;
        if (kind == 3)
            spec[f].op = len == 1 ? OP_U8_32 : len == 2 ? OP_U16_32 : OP_U32;
        else
            spec[f].op = kind == 1 ? OP_RAW : kind == 2 ? OP_WIDE : len == 1 ? OP_U8 : len == 2 ? OP_U16
                         : len == 4 ? OP_U32 : OP_U64;
    }
    /* records outer, fields inner: each record's cache lines are read once (a field-by-field
     * pass re-reads the whole buffer per field: memory-bound, as slow as numpy) */
    for (Py_ssize_t r = 0; r < n; r++) {
        const unsigned char *rec = offsets ? src + offsets[r] : src + r * size;
        for (Py_ssize_t f = 0; f < nf; f++) {
            const unsigned char *p = rec + spec[f].off;
            switch (spec[f].op) {
            case OP_U8:
                spec[f].dst[r] = *p;
                break;
            case OP_U8_32: {
                uint32_t v = *p;
                memcpy(spec[f].dst + r * 4, &v, 4);
                break;
            }
            case OP_U16_32: {
                uint32_t v = load16(p);
                memcpy(spec[f].dst + r * 4, &v, 4);
                break;
            }
            case OP_U16: {
                uint16_t v = load16(p);
                memcpy(spec[f].dst + r * 2, &v, 2);
                break;
            }
            case OP_U32: {
                uint32_t v = load32(p);
                memcpy(spec[f].dst + r * 4, &v, 4);
                break;
            }
            case OP_U64: {
                uint64_t v = load64(p);
                memcpy(spec[f].dst + r * 8, &v, 8);
                break;
            }
            case OP_WIDE: {
                uint64_t v = load_be(p, spec[f].len);
                memcpy(spec[f].dst + r * 8, &v, 8);
                break;
            }
            default:
                memcpy(spec[f].dst + r * spec[f].len, p, (size_t)spec[f].len);
            }
        }
    }
    release_all(&bufs);
    Py_DECREF(fields);
    return out;
fail:
    release_all(&bufs);
    Py_DECREF(fields);
    Py_XDECREF(out);
    return NULL;
}

/* join_group(datagrams) -> (joined, lens, exporter_index, exporters): the payloads of datagrams
 * (a Datagrams, or a list of (payload, exporter, time) tuples) joined into one bytes, their int64 lengths and the int64 index
 * of each one's exporter in `exporters` (first-seen order). WHY: the Python version is four
 * passes over the list with a generator and a dict lookup per datagram (~0.7 us a datagram). */
/* The index of `exporter` in `exporters` (appended, and noted in `ids`, when new); -1 with an
 * exception set on failure. */
static int64_t exporter_id(PyObject *ids, PyObject *exporters, PyObject *exporter)
{
    PyObject *known = PyDict_GetItemWithError(ids, exporter);
    if (known != NULL)
        return PyLong_AsLongLong(known);
    if (PyErr_Occurred())
        return -1;
    int64_t id = PyList_GET_SIZE(exporters);
    PyObject *num = PyLong_FromLongLong(id);
    if (num == NULL)
        return -1;
    int rc = PyDict_SetItem(ids, exporter, num);
    Py_DECREF(num);
    if (rc < 0 || PyList_Append(exporters, exporter) < 0)
        return -1;
    return id;
}

static PyObject *ff_join_group(PyObject *mod, PyObject *arg)
{
    Datagrams *dg = dg_from(arg, "join_group");
    if (dg == NULL)
        return NULL;
    const Py_ssize_t n = dg->n;
    PyObject *joined = NULL, *lens = NULL, *index = NULL, *exporters = NULL, *ids = NULL, *out = NULL;
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (total > PY_SSIZE_T_MAX - dg->len[i]) {
            PyErr_SetString(PyExc_OverflowError, "join_group: too many bytes");
            goto done;
        }
        total += dg->len[i];
    }
    joined = PyBytes_FromStringAndSize(NULL, total);
    lens = PyBytes_FromStringAndSize(NULL, n * 8);
    index = PyBytes_FromStringAndSize(NULL, n * 8);
    exporters = PyList_New(0);
    ids = PyDict_New();
    if (joined == NULL || lens == NULL || index == NULL || exporters == NULL || ids == NULL)
        goto done;
    char *dst = PyBytes_AS_STRING(joined);
    int64_t *lv = (int64_t *)PyBytes_AS_STRING(lens), *iv = (int64_t *)PyBytes_AS_STRING(index);
    PyObject *last = NULL;  /* the previous exporter object: most batches have one or a few */
    int64_t last_id = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        memcpy(dst, dg->ptr[i], (size_t)dg->len[i]);
        dst += dg->len[i];
        lv[i] = dg->len[i];
        if (dg->exp[i] != last) {
            last_id = exporter_id(ids, exporters, dg->exp[i]);
            if (last_id < 0)
                goto done;
            last = dg->exp[i];
        }
        iv[i] = last_id;
    }
    out = PyTuple_Pack(4, joined, lens, index, exporters);
done:
    Py_DECREF(dg);
    Py_XDECREF(joined);
    Py_XDECREF(lens);
    Py_XDECREF(index);
    Py_XDECREF(exporters);
    Py_XDECREF(ids);
    return out;
}

/* retain_freed_memory(): glibc's malloc returns freed memory above its dynamic thresholds to the
 * kernel, so every batch's multi-megabyte buffers came back as fresh pages: a page fault per
 * 4 kB (~2.5 us on this VM, more than the copy into it). Raising the trim threshold and fixing
 * the mmap threshold keeps them in the heap for the next batch. Process-wide; returns whether
 * glibc accepted both settings. */
static PyObject *ff_retain_freed_memory(PyObject *mod, PyObject *Py_UNUSED(ignored))
{
#if defined(__GLIBC__)
    int ok = mallopt(M_MMAP_THRESHOLD, 32 << 20) && mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return PyBool_FromLong(ok);
#else
    Py_RETURN_FALSE;
#endif
}

/* by_version(datagrams) -> (v5, v9, v10, other): the datagrams split by the 16-bit version at
 * the start of the payload, arrival order kept in each (payloads shorter than 2 bytes go to
 * `other`): lists of the same tuples for a list of tuples, views for a Datagrams. WHY: the
 * decoder's first pass over every datagram. */
static PyObject *ff_by_version(PyObject *mod, PyObject *arg)
{
    Datagrams *dg = dg_from(arg, "by_version");
    if (dg == NULL)
        return NULL;
    const int views = Datagrams_Check(arg);
    PyObject *seq = views ? NULL : PySequence_Fast(arg, "by_version: datagrams must be a sequence");
    Py_ssize_t *idx = PyMem_Malloc((size_t)(dg->n ? dg->n : 1) * 4 * sizeof(Py_ssize_t));
    PyObject *parts[4] = {NULL, NULL, NULL, NULL}, *out = NULL;
    if ((!views && seq == NULL) || idx == NULL) {
        if (idx == NULL)
            PyErr_NoMemory();
        goto done;
    }
    if (!views && PySequence_Fast_GET_SIZE(seq) != dg->n) {
        PyErr_SetString(PyExc_RuntimeError, "by_version: the datagrams changed size");
        goto done;
    }
    Py_ssize_t count[4] = {0, 0, 0, 0};
    for (Py_ssize_t i = 0; i < dg->n; i++) {
        int which = 3;
        if (dg->len[i] >= 2) {
            unsigned int version = (unsigned int)dg->ptr[i][0] << 8 | dg->ptr[i][1];
            which = version == 5 ? 0 : version == 9 ? 1 : version == 10 ? 2 : 3;
        }
        idx[which * dg->n + count[which]++] = i;
    }
    for (int w = 0; w < 4; w++) {
        const Py_ssize_t *sel = idx + w * dg->n;
        if (views) {
            parts[w] = (PyObject *)dg_select(dg, sel, count[w], 0, 0);
        } else {
            parts[w] = PyList_New(count[w]);
            for (Py_ssize_t j = 0; parts[w] != NULL && j < count[w]; j++) {
                PyObject *it = PySequence_Fast_GET_ITEM(seq, sel[j]);
                Py_INCREF(it);
                PyList_SET_ITEM(parts[w], j, it);
            }
        }
        if (parts[w] == NULL)
            goto done;
    }
    out = PyTuple_Pack(4, parts[0], parts[1], parts[2], parts[3]);
done:
    Py_DECREF(dg);
    Py_XDECREF(seq);
    PyMem_Free(idx);
    for (int k = 0; k < 4; k++)
        Py_XDECREF(parts[k]);
    return out;
}

/* Pass 1 of walk_sets: checks every datagram (all inside `buf`) and counts its sets; the index of
 * the first malformed one, or -1 with the count in *nsets. */
static Py_ssize_t count_sets(const unsigned char *buf, const int64_t *starts, const int64_t *lens, Py_ssize_t n,
                             int version, Py_ssize_t *nsets)
{
    const Py_ssize_t hdr = version == 9 ? 20 : 16;
    Py_ssize_t count = 0;
    for (Py_ssize_t d = 0; d < n; d++) {
        if (lens[d] < hdr)
            return d;
        const unsigned char *dg = buf + starts[d];
        Py_ssize_t end = lens[d];
        if (version == 10) {
            end = load16(dg + 2);  /* the IPFIX header's own length */
            if (end < 16 || end != lens[d])
                return d;  /* bytes after the message: the per-datagram path counts them */
        }
        Py_ssize_t pos = hdr;
        while (end - pos >= 4) {
            Py_ssize_t slen = load16(dg + pos + 2);
            if (slen < 4 || pos + slen > end)
                return d;
            count++;
            pos += slen;
        }
        if (version == 10 && pos != end)
            return d;  /* stray bytes after the last set (v9 allows padding) */
    }
    *nsets = count;
    return -1;
}

/* walk_sets(buf, starts, lens, version) -> int | (seq, domain, dgram, sid, body, body_len): the
 * headers and sets of every v9 (version 9) or IPFIX (10) datagram of a joined batch, or the index
 * of the first malformed one (short header, IPFIX length that lies, a set length below 4 or past
 * the end, IPFIX bytes after the last set), exactly as batchwalk.walk_sets decides. Outputs are
 * int64 arrays as bytes (seq and domain per datagram; the rest per set, in arrival order).
 * WHY: the numpy walk advances all datagrams one set position at a time (a dozen array
 * operations per position, ~10 ns a record here); this is one pass. */
static PyObject *ff_walk_sets(PyObject *mod, PyObject *args)
{
    PyObject *bo, *so, *lo;
    int version;
    if (!PyArg_ParseTuple(args, "OOOi:walk_sets", &bo, &so, &lo, &version))
        return NULL;
    if (version != 9 && version != 10) {
        PyErr_Format(PyExc_ValueError, "walk_sets: version must be 9 or 10, not %d", version);
        return NULL;
    }
    Buffers bufs = {.held = 0};
    PyObject *cols[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    PyObject *out = NULL;
    if (get_buffer(&bufs, bo, "buf") < 0 || get_buffer(&bufs, so, "starts") < 0 ||
        get_buffer(&bufs, lo, "lens") < 0)
        goto done;
    for (int i = 1; i < 3; i++) {
        const char *fmt = bufs.v[i].format ? bufs.v[i].format : "B";
        if (bufs.v[i].itemsize != 8 || !strchr("lq", fmt[strlen(fmt) - 1])) {
            PyErr_SetString(PyExc_TypeError, "walk_sets: starts and lens must be int64 arrays");
            goto done;
        }
    }
    if (bufs.v[1].len != bufs.v[2].len) {
        PyErr_SetString(PyExc_ValueError, "walk_sets: starts and lens differ in length");
        goto done;
    }
    const unsigned char *buf = bufs.v[0].buf;
    const Py_ssize_t size = bufs.v[0].len, n = bufs.v[1].len / 8, hdr = version == 9 ? 20 : 16;
    const int64_t *starts = bufs.v[1].buf, *lens = bufs.v[2].buf;
    Py_ssize_t nsets = 0;
    for (Py_ssize_t d = 0; d < n; d++) {
        if (starts[d] < 0 || lens[d] < 0 || starts[d] > size - lens[d]) {
            PyErr_Format(PyExc_ValueError, "walk_sets: datagram %zd lies outside the buffer", d);
            goto done;
        }
    }
    Py_ssize_t bad = count_sets(buf, starts, lens, n, version, &nsets);
    if (bad >= 0) {
        out = PyLong_FromSsize_t(bad);
        goto done;
    }
    /* pass 2: the outputs */
    for (int c = 0; c < 6; c++) {
        cols[c] = PyByteArray_FromStringAndSize(NULL, (c < 2 ? n : nsets) * 8);
        if (cols[c] == NULL)
            goto done;
    }
    int64_t *seq = (int64_t *)PyByteArray_AS_STRING(cols[0]), *dom = (int64_t *)PyByteArray_AS_STRING(cols[1]);
    int64_t *sdg = (int64_t *)PyByteArray_AS_STRING(cols[2]), *sid = (int64_t *)PyByteArray_AS_STRING(cols[3]);
    int64_t *body = (int64_t *)PyByteArray_AS_STRING(cols[4]), *blen = (int64_t *)PyByteArray_AS_STRING(cols[5]);
    Py_ssize_t k = 0;
    for (Py_ssize_t d = 0; d < n; d++) {
        const unsigned char *dg = buf + starts[d];
        seq[d] = load32(dg + (version == 9 ? 12 : 8));
        dom[d] = load32(dg + (version == 9 ? 16 : 12));
        Py_ssize_t end = version == 10 ? load16(dg + 2) : lens[d], pos = hdr;
        while (end - pos >= 4) {
            Py_ssize_t slen = load16(dg + pos + 2);
            sdg[k] = d;
            sid[k] = load16(dg + pos);
            body[k] = starts[d] + pos + 4;
            blen[k] = slen - 4;
            k++;
            pos += slen;
        }
    }
    out = PyTuple_Pack(6, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]);
done:
    release_all(&bufs);
    for (int c = 0; c < 6; c++)
        Py_XDECREF(cols[c]);
    return out;
}

/* ------------------------------------------------------------------------------------------ */
/* NetFlow v5 straight into the rollup tables                                                 */
/* ------------------------------------------------------------------------------------------ */

#define V5_HEADER 24
#define V5_RECORD 48
#define V5_MAX_COUNT 30

/* The record count of a v5 datagram, or -1 when it is malformed (netflow5.parse_header's rules:
 * a whole header, 1..30 records, all of them inside the datagram; bytes after them also send it
 * to the per-datagram path, which counts them). */
static inline int v5_count(const unsigned char *p, Py_ssize_t len)
{
    if (len < V5_HEADER)
        return -1;
    int count = load16(p + 2);
    if (count == 0 || count > V5_MAX_COUNT || len != V5_HEADER + (Py_ssize_t)count * V5_RECORD)
        return -1;
    return count;
}

/* v5_walk(datagrams) -> int | (exporters, exporter_index, count, seq, engine, sampling): the v5
 * headers of datagrams (a Datagrams or a list of tuples), read in place, or the index of the first
 * malformed datagram (batchwalk.walk_v5's rules). Outputs are int64 arrays as bytearrays, one
 * value per datagram; exporters in first-seen order.
 * WHY: join_group + walk_v5 copied every payload into one buffer and walked it with numpy only
 * to find the records, which v5_rollup reads where they are. */
static PyObject *ff_v5_walk(PyObject *mod, PyObject *arg)
{
    Datagrams *dg = dg_from(arg, "v5_walk");
    if (dg == NULL)
        return NULL;
    const Py_ssize_t n = dg->n;
    PyObject *cols[5] = {NULL, NULL, NULL, NULL, NULL};
    PyObject *exporters = NULL, *ids = NULL, *out = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (v5_count(dg->ptr[i], dg->len[i]) < 0) {
            out = PyLong_FromSsize_t(i);
            goto done;
        }
    }
    for (int c = 0; c < 5; c++) {
        cols[c] = PyByteArray_FromStringAndSize(NULL, n * 8);
        if (cols[c] == NULL)
            goto done;
    }
    exporters = PyList_New(0);
    ids = PyDict_New();
    if (exporters == NULL || ids == NULL)
        goto done;
    int64_t *v[5];
    for (int c = 0; c < 5; c++)
        v[c] = (int64_t *)PyByteArray_AS_STRING(cols[c]);
    PyObject *last = NULL;  /* the previous exporter object: most batches have one or a few */
    int64_t last_id = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        const unsigned char *p = dg->ptr[i];
        if (dg->exp[i] != last) {
            last_id = exporter_id(ids, exporters, dg->exp[i]);
            if (last_id < 0)
                goto done;
            last = dg->exp[i];
        }
        v[0][i] = last_id;
        v[1][i] = load16(p + 2);  /* count */
        v[2][i] = load32(p + 16);  /* sequence */
        v[3][i] = load16(p + 20);  /* engine type << 8 | engine id */
        v[4][i] = load16(p + 22);  /* sampling */
    }
    out = Py_BuildValue("(OOOOOO)", exporters, cols[0], cols[1], cols[2], cols[3], cols[4]);
done:
    Py_DECREF(dg);
    for (int c = 0; c < 5; c++)
        Py_XDECREF(cols[c]);
    Py_XDECREF(exporters);
    Py_XDECREF(ids);
    return out;
}

/* Records decoded into a block of columns (~46 kB, malloc'd once a call: it stays in L1/L2 while
 * the seven tables take it one after the other, as the column path's ExporterRollup._add_fast
 * does; measured: 1,024 records ~2 ns a record faster than 256, as fast as 4,096). */
#define V5_BLOCK 1024
#define V5_PREFETCH 1 /* datagrams ahead (measured: ~3-4 ns a record less over UDP, 2 or 4 no better) */
typedef struct {
    uint32_t src[V5_BLOCK], dst[V5_BLOCK], in[V5_BLOCK], out[V5_BLOCK], proto[V5_BLOCK], sport[V5_BLOCK],
        dport[V5_BLOCK];
    int64_t b[V5_BLOCK], p[V5_BLOCK];
    int8_t st[V5_BLOCK];
} V5Block;

enum { T_TOTAL, T_IN, T_OUT, T_SERVICE, T_SRC, T_DST, T_CONV, V5_TABLES };
static const Py_ssize_t v5_key_sizes[V5_TABLES] = {1, 4, 4, 8, 4, 4, 8};

static int v5_flush(SumTable **t, V5Block *k, Py_ssize_t n)
{
    if (n == 0)
        return 0;
    if (add_keys(t[T_TOTAL], (const unsigned char *)k->st, k->b, k->p, n, 1) < 0 ||
        add_keys(t[T_IN], (const unsigned char *)k->in, k->b, k->p, n, 1) < 0 ||
        add_keys(t[T_OUT], (const unsigned char *)k->out, k->b, k->p, n, 1) < 0 ||
        add_services(t[T_SERVICE], k->proto, k->sport, k->dport, k->b, k->p, n) < 0 ||
        add_keys(t[T_SRC], (const unsigned char *)k->src, k->b, k->p, n, 0) < 0 ||
        add_keys(t[T_DST], (const unsigned char *)k->dst, k->b, k->p, n, 0) < 0 ||
        add_pairs(t[T_CONV], (const unsigned char *)k->src, (const unsigned char *)k->dst, k->b, k->p, n) < 0)
        return -1;
    return 0;
}

/* Runs without the GIL: only C memory and the (referenced, immutable) payloads. 0 or -1 (no
 * memory). */
static int v5_add_all(SumTable **t, const unsigned char *const *payload, const int *counts, Py_ssize_t nd,
                      uint64_t rate, int8_t state)
{
    V5Block *k = malloc(sizeof(V5Block));
    if (k == NULL)
        return -1;
    Py_ssize_t n = 0;
    for (Py_ssize_t d = 0; d < nd; d++) {
        if (n + counts[d] > V5_BLOCK) {
            if (v5_flush(t, k, n) < 0)
                goto fail;
            n = 0;
        }
        if (d + V5_PREFETCH < nd) {  /* the next datagram's lines: each is its own allocation,
                                      * fresh from the receiver thread's core, which the hardware
                                      * prefetcher only follows after a few misses */
            const unsigned char *next = payload[d + V5_PREFETCH];
            const int bytes = V5_HEADER + counts[d + V5_PREFETCH] * V5_RECORD;
            for (int off = 0; off < bytes; off += 64)
                __builtin_prefetch(next + off);
        }
        const unsigned char *rec = payload[d] + V5_HEADER;
        for (int r = 0; r < counts[d]; r++, rec += V5_RECORD, n++) {
            k->src[n] = load32(rec);
            k->dst[n] = load32(rec + 4);
            k->in[n] = load16(rec + 12);
            k->out[n] = load16(rec + 14);
            /* unsigned products wrap instead of overflowing; the caller checked that they fit */
            k->p[n] = (int64_t)((uint64_t)load32(rec + 16) * rate);
            k->b[n] = (int64_t)((uint64_t)load32(rec + 20) * rate);
            k->sport[n] = load16(rec + 32);
            k->dport[n] = load16(rec + 34);
            k->proto[n] = rec[38];
            k->st[n] = state;
        }
    }
    if (v5_flush(t, k, n) < 0)
        goto fail;
    free(k);
    return 0;
fail:
    free(k);
    return -1;
}

/* v5_rollup(datagrams, index, rate, state, tables) -> records: the records of the datagrams (a
 * Datagrams or a list of tuples) at the int64 `index` positions added straight into the seven
 * SumTables of one exporter's interval (totals by sampling state (1-byte keys), in and out
 * interfaces (4), services (8), sources (4), destinations (4), conversations (8)), bytes and
 * packets multiplied by `rate`: what ExporterRollup._add_fast does with the FlowBatch of those
 * records, without the batch. Each datagram is checked again (ValueError if malformed).
 * WHY: the columns of a v5 batch and their copies in make_batch cost more than the adds. */
static PyObject *ff_v5_rollup(PyObject *mod, PyObject *args)
{
    PyObject *dgo, *io, *tabo;
    long long rate;
    int state;
    if (!PyArg_ParseTuple(args, "OOLiO:v5_rollup", &dgo, &io, &rate, &state, &tabo))
        return NULL;
    if (rate < 1 || state < -128 || state > 127) {
        PyErr_Format(PyExc_ValueError, "v5_rollup: rate %lld must be >= 1 and state %d one byte", rate, state);
        return NULL;
    }
    Datagrams *dgs = dg_from(dgo, "v5_rollup");  /* referenced while the GIL is released */
    if (dgs == NULL)
        return NULL;
    PyObject *tabs = PySequence_Fast(tabo, "v5_rollup: tables must be a sequence");
    if (tabs == NULL) {
        Py_DECREF(dgs);
        return NULL;
    }
    Buffers bufs = {.held = 0};
    const unsigned char **payload = NULL;
    int *counts = NULL;
    Py_ssize_t nd = 0, entered = 0, records = 0;
    SumTable *t[V5_TABLES];
    PyObject *out = NULL;
    if (PySequence_Fast_GET_SIZE(tabs) != V5_TABLES) {
        PyErr_Format(PyExc_ValueError, "v5_rollup: %d tables expected", V5_TABLES);
        goto done;
    }
    for (int i = 0; i < V5_TABLES; i++) {
        PyObject *o = PySequence_Fast_GET_ITEM(tabs, i);
        if (!PyObject_TypeCheck(o, &SumTableType) || ((SumTable *)o)->ks != v5_key_sizes[i]) {
            PyErr_Format(PyExc_TypeError, "v5_rollup: table %d must be a SumTable of %zd-byte keys", i,
                         v5_key_sizes[i]);
            goto done;
        }
        t[i] = (SumTable *)o;
        for (int j = 0; j < i; j++) {
            if (t[j] == t[i]) {
                PyErr_SetString(PyExc_ValueError, "v5_rollup: the same table given twice");
                goto done;
            }
        }
    }
    if (get_buffer(&bufs, io, "index") < 0)
        goto done;
    const char *fmt = bufs.v[0].format ? bufs.v[0].format : "B";
    if (bufs.v[0].itemsize != 8 || !strchr("lq", fmt[strlen(fmt) - 1])) {
        PyErr_SetString(PyExc_TypeError, "v5_rollup: index must be an int64 array");
        goto done;
    }
    nd = bufs.v[0].len / 8;
    const int64_t *index = bufs.v[0].buf;
    const Py_ssize_t size = dgs->n;
    payload = PyMem_Malloc((size_t)(nd ? nd : 1) * sizeof(*payload));
    counts = PyMem_Malloc((size_t)(nd ? nd : 1) * sizeof(int));
    if (payload == NULL || counts == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t d = 0; d < nd; d++) {
        if (index[d] < 0 || index[d] >= size) {
            PyErr_Format(PyExc_ValueError, "v5_rollup: index %lld outside the %zd datagrams", (long long)index[d],
                         size);
            goto done;
        }
        payload[d] = dgs->ptr[index[d]];
        counts[d] = v5_count(payload[d], dgs->len[index[d]]);
        if (counts[d] < 0) {
            PyErr_Format(PyExc_ValueError, "v5_rollup: datagram %lld is not a whole NetFlow v5 datagram",
                         (long long)index[d]);
            goto done;
        }
        records += counts[d];
    }
    for (; entered < V5_TABLES; entered++) {
        if (enter(t[entered]) < 0)
            goto done;
    }
    int rc;
    RUN_ADD(rc, records, v5_add_all(t, payload, counts, nd, (uint64_t)rate, (int8_t)state));
    if (rc < 0)
        PyErr_NoMemory();
    else
        out = PyLong_FromSsize_t(records);
done:
    for (Py_ssize_t i = 0; i < entered; i++)
        t[i]->busy = 0;
    PyMem_Free(payload);
    PyMem_Free(counts);
    release_all(&bufs);
    Py_DECREF(tabs);
    Py_DECREF(dgs);
    return out;
}

/* time_range(datagrams) -> (earliest, latest): the smallest and largest arrival time (the float
 * third item) of non-empty datagrams. WHY: the worker checks that a batch falls in one rollup
 * interval; a list of every time cost ~1.5 ns a record. */
static PyObject *ff_time_range(PyObject *mod, PyObject *arg)
{
    Datagrams *dg = dg_from(arg, "time_range");
    if (dg == NULL)
        return NULL;
    const Py_ssize_t n = dg->n;
    double lo = 0.0, hi = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        double t = dg->t[i];
        if (i == 0 || t < lo)
            lo = t;
        if (i == 0 || t > hi)
            hi = t;
    }
    Py_DECREF(dg);
    if (n == 0) {
        PyErr_SetString(PyExc_ValueError, "time_range: no datagrams");
        return NULL;
    }
    return Py_BuildValue("(dd)", lo, hi);
}

/* ------------------------------------------------------------------------------------------ */
/* Bus envelope (nocsoc/bus/envelope.py's layout) <-> Datagrams, for one-source batches          */
/* ------------------------------------------------------------------------------------------ */

/* envelope_frame(datagrams, head) -> bytes: `head` (the envelope's header and source table, made
 * by envelope.py) then the datagrams' times (f64), a zero source index each (u16), their lengths
 * (u32) and their payloads, in one allocation. WHY: the publisher framed a batch with a list of
 * payloads, one of times, two arrays and a join (~0.8 us a datagram, 26 ns a record on the bus
 * bench); this writes the bytes once. Host order: the caller uses it on little-endian hosts. */
static PyObject *ff_envelope_frame(PyObject *mod, PyObject *args)
{
    PyObject *seq;
    Py_buffer head;
    if (!PyArg_ParseTuple(args, "Oy*:envelope_frame", &seq, &head))
        return NULL;
    PyObject *out = NULL;
    Datagrams *dg = dg_from(seq, "envelope_frame");
    if (dg == NULL)
        goto done;
    const Py_ssize_t n = dg->n;
    Py_ssize_t total = head.len + 14 * n;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (dg->len[i] > (Py_ssize_t)UINT32_MAX || total > PY_SSIZE_T_MAX - dg->len[i]) {
            PyErr_Format(PyExc_ValueError, "envelope_frame: datagram %zd is too long", i);
            goto done;
        }
        total += dg->len[i];
    }
    out = PyBytes_FromStringAndSize(NULL, total);
    if (out == NULL)
        goto done;
    char *w = PyBytes_AS_STRING(out);
    memcpy(w, head.buf, head.len);
    w += head.len;
    memcpy(w, dg->t, 8 * n);
    w += 8 * n;
    memset(w, 0, 2 * n);
    w += 2 * n;
    for (Py_ssize_t i = 0; i < n; i++, w += 4) {
        uint32_t len = (uint32_t)dg->len[i];
        memcpy(w, &len, 4);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        memcpy(w, dg->ptr[i], dg->len[i]);
        w += dg->len[i];
    }
done:
    Py_XDECREF(dg);
    PyBuffer_Release(&head);
    return out;
}

/* envelope_view(data, pos, n, exporter) -> (Datagrams, latest time): the `n` records of an
 * envelope (bytes, or a bytearray) whose columns start at `pos` (times f64, source indexes u16,
 * lengths u32, then the payloads), all from `exporter`, as a view whose payloads stay in `data`.
 * ValueError when the lengths do not end exactly at the end of `data`. WHY: the decoder cut each
 * payload into its own bytes and a tuple (~0.8 us a datagram), which its bulk path then joined
 * again; the view is read in place. A bytearray (a bus message the NATS reader received into a
 * buffer of its exact size, natsio.PayloadReceiver) is held through a memoryview: exported, it
 * cannot be resized while the view points into it. Host order: the caller uses it on
 * little-endian hosts. */
static PyObject *ff_envelope_view(PyObject *mod, PyObject *args)
{
    PyObject *data, *exporter;
    Py_ssize_t pos, n;
    if (!PyArg_ParseTuple(args, "OnnU:envelope_view", &data, &pos, &n, &exporter))
        return NULL;
    PyObject *owner;
    const unsigned char *base;
    Py_ssize_t size;
    if (PyBytes_Check(data)) {
        owner = Py_NewRef(data);
        base = (const unsigned char *)PyBytes_AS_STRING(data);
        size = PyBytes_GET_SIZE(data);
    } else if (PyByteArray_Check(data)) {
        owner = PyMemoryView_FromObject(data);
        if (owner == NULL)
            return NULL;
        base = (const unsigned char *)PyMemoryView_GET_BUFFER(owner)->buf;
        size = PyMemoryView_GET_BUFFER(owner)->len;
    } else {
        PyErr_Format(PyExc_TypeError, "envelope_view: bytes or bytearray, not %.80s", Py_TYPE(data)->tp_name);
        return NULL;
    }
    if (pos < 0 || n < 0 || n > (size - pos) / 14 || pos > size) {
        PyErr_Format(PyExc_ValueError, "%zd records do not fit in %zd bytes", n, size);
        Py_DECREF(owner);
        return NULL;
    }
    const unsigned char *times = base + pos, *lens = base + pos + 10 * n;
    Py_ssize_t at = pos + 14 * n;
    Datagrams *dg = dg_alloc(n);
    if (dg == NULL) {
        Py_DECREF(owner);
        return NULL;
    }
    double latest = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t len;
        memcpy(&len, lens + 4 * i, 4);
        memcpy(&dg->t[i], times + 8 * i, 8);
        if ((Py_ssize_t)len > size - at) {
            PyErr_Format(PyExc_ValueError, "payload %zd of %u bytes ends past the message's %zd", i, len, size);
            Py_DECREF(dg);
            Py_DECREF(owner);
            return NULL;
        }
        dg->ptr[i] = base + at;
        dg->len[i] = len;
        at += len;
        Py_INCREF(exporter);
        dg->exp[i] = exporter;
        if (i == 0 || dg->t[i] > latest)
            latest = dg->t[i];
    }
    if (at != size) {
        PyErr_Format(PyExc_ValueError, "payloads end at byte %zd, the message at %zd", at, size);
        Py_DECREF(dg);
        Py_DECREF(owner);
        return NULL;
    }
    dg->owners = PyTuple_Pack(1, owner);
    Py_DECREF(owner);
    if (dg->owners == NULL) {
        Py_DECREF(dg);
        return NULL;
    }
    PyObject *out = Py_BuildValue("(Nd)", (PyObject *)dg, latest);
    return out;
}

/* unfilled_bytearray(n) -> bytearray: a bytearray of `n` bytes whose contents are whatever the
 * allocator gave, for a reader that fills all of it before anything reads it (the bus's NATS
 * reader: the kernel writes a message's payload into it, natsio.PayloadReceiver). WHY:
 * bytearray(n) zeroes it first, a pass over hundreds of kB per bus message that the kernel's copy
 * then overwrites (~10 ns a record on the bus bench's decoder). */
static PyObject *ff_unfilled_bytearray(PyObject *mod, PyObject *arg)
{
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "unfilled_bytearray: negative size");
        return NULL;
    }
    return PyByteArray_FromStringAndSize(NULL, n);
}

static PyMethodDef flowfast_functions[] = {
    {"envelope_frame", ff_envelope_frame, METH_VARARGS,
     "envelope_frame(datagrams, head) -> bytes: a one-source bus envelope: head, then the datagrams' times, "
     "zero source indexes, lengths and payloads (host order)."},
    {"envelope_view", ff_envelope_view, METH_VARARGS,
     "envelope_view(data, pos, n, exporter) -> (Datagrams, latest time): a one-source bus envelope's records "
     "as a view of `data` (host order)."},
    {"time_range", ff_time_range, METH_O,
     "time_range(datagrams) -> (earliest, latest): the smallest and largest time of datagrams (a Datagrams "
     "or (payload, exporter, time) tuples)."},
    {"v5_walk", ff_v5_walk, METH_O,
     "v5_walk(datagrams) -> int | (exporters, exporter_index, count, seq, engine, sampling): the NetFlow v5 "
     "headers of datagrams (a Datagrams or (payload, exporter, time) tuples) as int64 arrays (bytearrays), "
     "or the index of the first malformed datagram."},
    {"v5_rollup", ff_v5_rollup, METH_VARARGS,
     "v5_rollup(datagrams, index, rate, state, tables) -> records: the v5 records of the datagrams at the "
     "int64 `index` positions, scaled by `rate`, added to seven SumTables (total, in, out, service, src, "
     "dst, conversation)."},
    {"walk_sets", ff_walk_sets, METH_VARARGS,
     "walk_sets(buf, starts, lens, version) -> int | (seq, domain, dgram, sid, body, body_len): the v9/IPFIX "
     "headers and sets of a joined batch as int64 arrays (bytes), or the index of the first malformed "
     "datagram."},
    {"by_version", ff_by_version, METH_O,
     "by_version(datagrams) -> (v5, v9, v10, other): datagrams split by the version in their first two "
     "bytes, arrival order kept."},
    {"join_group", ff_join_group, METH_O,
     "join_group(datagrams) -> (joined, lens, exporter_index, exporters): payloads joined, int64 lengths "
     "(bytes), int64 exporter index of each (bytes), exporters in first-seen order."},
    {"unfilled_bytearray", ff_unfilled_bytearray, METH_O,
     "unfilled_bytearray(n) -> bytearray: n bytes not zeroed, for a reader that fills all of them first."},
    {"retain_freed_memory", ff_retain_freed_memory, METH_NOARGS,
     "retain_freed_memory() -> bool: keep freed multi-megabyte buffers in the heap (mallopt) instead of "
     "returning them to the kernel after each batch."},
    {"columns", ff_columns, METH_VARARGS,
     "columns(buf, record_size, fields, offsets=None) -> list[bytearray]: one native-order column per "
     "(offset, length, kind) field of the records back to back in `buf`, or at int64 `offsets` (kind 0: "
     "big-endian uint of 1/2/4/8 bytes, 1: raw bytes, 2: big-endian uint of any length into uint64, "
     "3: big-endian uint of 1/2/4 bytes into uint32)."},
    {NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------------------------------------ */

static struct PyModuleDef flowfast_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "nocsoc.collectors.flows._flowfast",
    .m_doc = "Flow collector hot loops: SumTable (hash group-by of the rollup), Receiver (recvmmsg).",
    .m_size = -1,
    .m_methods = flowfast_functions,
};

PyMODINIT_FUNC PyInit__flowfast(void)
{
    if (PyType_Ready(&SumTableType) < 0 || PyType_Ready(&ReceiverType) < 0 || PyType_Ready(&DatagramsType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&flowfast_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&SumTableType);
    if (PyModule_AddObject(m, "SumTable", (PyObject *)&SumTableType) < 0) {
        Py_DECREF(&SumTableType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&ReceiverType);
    if (PyModule_AddObject(m, "Receiver", (PyObject *)&ReceiverType) < 0) {
        Py_DECREF(&ReceiverType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&DatagramsType);
    if (PyModule_AddObject(m, "Datagrams", (PyObject *)&DatagramsType) < 0) {
        Py_DECREF(&DatagramsType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
