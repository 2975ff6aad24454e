/*
 * _evtxfast: one EVTX chunk's records -> each record's JSON text, in C, byte for byte as the
 * Rust `evtx` package's records_json() writes it (compact, `#attributes` inside the element,
 * separate_json_attributes off: what nocsoc.collectors.windows.evtx uses).
 *
 * Why hand-written: on full chunks the Rust parser costs ~4 us a record and handing its dict
 * and str to Python more; this reads the chunk's binary XML (libyal's "Windows XML Event Log
 * (EVTX)" format; MS-EVEN6 for the binary XML) and writes the text in one pass over a tree of
 * the chunk's templates, each parsed once per chunk. Why byte for byte: SigmaHQ's keyword rule
 * "Mimikatz Use" searches the record's text, and _winfast.record_fields reads that text; with
 * the same text nothing downstream changes, and the proof is a string comparison
 * (tests/collectors/windows/test_evtxfast.py, on every real record and on mutated chunks).
 * decode_events also notes, while writing, where each key and value went (the tape) and makes
 * the record's fields from that (walk), not from a second scan of the text (see Tok, walk); a
 * record shaped as one met before (in any chunk: template ids) gets that one's text with its
 * own values in their places, and its fields from that one's walk (see Plan, Compiled).
 *
 * The Rust package stays the reference: decode_chunk returns None (the caller hands the chunk
 * to evtx) for anything it does not read exactly as evtx does, never a guess:
 *   - a chunk whose header or record layout is not the plain one (magic, sizes, free-space
 *     offset, record magic and trailing size copy); the caller checks both CRC32s first;
 *   - a record that is not fragment header + template instance + end of stream;
 *   - in templates: any token but elements, attributes, UTF-16 value text and substitutions
 *     (CDATA, character and entity references, processing instructions are declined);
 *   - substitution values of the types whose rendering differs between evtx's versions or
 *     needs a codec: arrays (evtx repeats the element per item), floats, SizeT, ANSI strings
 *     that are not ASCII, EvtHandle, EvtXml; values whose size does not fit their type;
 *   - UTF-16 with an unpaired surrogate, names that would need escaping, times outside
 *     years 1601-9999, more than 64 distinct child names in one element, deep nesting.
 * How evtx renders (src/binxml/ir_json.rs, value_render.rs): an element with neither child
 * elements nor text is `null`; with text only, its text (a number or true/false when it is one
 * lone integer or bool value); else an object: `#attributes` (those with text), `#text`, then
 * the children, a repeated name getting `_1`, `_2`...; EventData/UserData's `Data Name="x"`
 * children become `"x": value` (`""` when empty), nameless ones one `"Data": {"#text": ...}`;
 * optional substitutions that are empty are dropped.
 */
#include "_winfast.h"  /* (Python.h; WfApi, what _winfast's capsule holds) */
#include <structmember.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "_evtxfast reads little-endian fields with plain loads (setup.py: optional, evtx then reads)"
#endif

#define CHUNK 65536u
#define CHUNK_HEADER 512u
#define MAX_DEPTH 48
#define MAX_NEST 8
#define MAX_VALUES 4096
#define MAX_UNIQUE_NAMES 64
#define TCAP 512  /* template cache slots (a chunk holds a few dozen) */
#define NCAP 2048 /* name cache slots */

/* ---------- output buffer ---------- */
typedef struct {
    char *p;
    size_t n, cap;
    int high; /* a byte >= 0x80 was written (the str is not ASCII) */
    int esc;  /* a JSON escape was written (tracked per string for the tape: see Tok) */
    size_t extra; /* bytes after the first of each multi-byte sequence: n - extra code points */
} Buf;

static int grow(Buf *b, size_t need) {
    if (b->n + need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + need) cap *= 2;
    char *p = PyMem_Realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}
#define PUT(b, s, len) do { if (grow((b), (len)) < 0) return -1; memcpy((b)->p + (b)->n, (s), (len)); (b)->n += (len); } while (0)
#define PUTC(b, ch) do { if (grow((b), 1) < 0) return -1; (b)->p[(b)->n++] = (char)(ch); } while (0)
#define PUTS(b, lit) PUT((b), (lit), sizeof(lit) - 1)
#define TRY(x) do { if ((x) < 0) return -1; } while (0)

/* ---------- template tree ---------- */
enum { N_ELEM, N_ATTR, N_TEXT, N_SUBST };
typedef struct {
    uint8_t kind, optional;
    uint16_t idx;      /* N_SUBST: substitution index */
    int32_t name;      /* N_ELEM/N_ATTR: name cache slot */
    uint32_t off, len; /* N_TEXT: chunk offset of the UTF-16 text, units */
    int32_t attrs;     /* N_ELEM: first attribute */
    int32_t kids;      /* N_ELEM: first child; N_ATTR: first value node */
    int32_t next;      /* next sibling */
    int32_t gid;       /* a template's root: its id in the process-wide registry (-1: none) */
} TNode;

/* a name's flags, for the element names evtx's JSON treats specially */
enum { F_DATA = 1, F_CONTAINER = 2, F_NAMEATTR = 4, F_HIGH = 8 };

typedef struct {
    uint8_t type;
    uint8_t empty;     /* evtx's "optional and empty": dropped where the substitution is optional */
    uint32_t off, len; /* chunk offset and size (UTF-16 strings: units, which end at a NUL) */
    int32_t sub;       /* BinXml: the nested instance's context */
} Val;

typedef struct {
    int32_t root; /* the template's root element node */
    int32_t vals; /* first value in Dec.vals */
    uint32_t count;
} Ctx;

/* ---------- the tape ----------
 * What _winfast.record_fields_lazy's scan of the JSON text reads, noted while the text is
 * written: one token per object and array bound, key and scalar, a key's or a string's with the
 * span of its text in the output. decode_events fills each record's Fields from it (walk(),
 * below) instead of scanning the text again (~19k instructions a record on the benign day). */
enum { K_OBJ, K_END, K_ARR, K_AEND, K_KEY, K_STR, K_NUM, K_TRUE, K_FALSE, K_NULL };
enum { TF_ESC = 1, TF_HIGH = 2, TF_NEG = 4, TF_CONTENT = 8 /* a key whose text is a value's */ };
/* K_KEY's `key`: the name's cache slot (the key is that name alone), else one of these */
enum { KH_NONE = -1, KH_ATTRS = -2, KH_TEXT = -3, KH_DATA = -4 };
typedef struct {
    uint8_t kind, flags;  /* flags: TF_ESC (K_KEY, K_STR: an escape in it), TF_HIGH (a byte >= 0x80), TF_NEG */
    int32_t key;
    uint32_t off, len;    /* K_KEY, K_STR: the text between the quotes, in the output */
    uint64_t num;         /* K_NUM: the magnitude; K_KEY: 1 + the text node a Data's Name is, or 0 */
    int32_t vop;          /* while recording (see Plan): K_STR, the last value written before its
                             opening quote (-1: none); K_NUM, K_TRUE, K_FALSE: its own */
    int32_t vop_end;      /* K_STR: the last value written before its closing quote */
} Tok;

/* A substitution value written while recording (see Plan): where its bytes went, the Buf's
   `extra` before and after, which value, and whether value_number wrote it (a number or
   true/false, not inside quotes). */
typedef struct {
    uint32_t start, end, extra0, extra1;
    int32_t vidx;
    uint8_t num;
} VOp;

typedef struct {
    const uint8_t *c;
    TNode *nodes;
    int nn, ncap;
    uint32_t tkey[TCAP];
    int32_t tval[TCAP];
    uint32_t nkey[NCAP];
    uint32_t nstart[NCAP], nlen[NCAP];
    uint8_t nflag[NCAP];
    uint32_t nextra[NCAP]; /* the name's Buf.extra */
    int32_t nid[NCAP]; /* the first slot holding the same text: names compare by it */
    int32_t order[NCAP];
    uint32_t nhash[NCAP];
    int nnames;
    Buf names;
    Ctx *ctx;
    int nctx, cctx;
    Val *vals;
    int nvals, cvals;
    Buf out;
    int taping;       /* decode_events with the direct fields: the writer notes the tape */
    Tok *tape;
    int ntape, ctape;
    /* the key objects of this chunk's name slots and Data-name text nodes (strong references,
       released by keys_release at the chunk's end; `kheld` lists the ones set) */
    PyObject *nobj[NCAP];
    PyObject **tobj;
    int ctobj;
    int32_t *kheld;   /* >= 0: a name slot; < 0: -1 - a text node */
    int nkheld, ckheld;
    int recording;    /* value_text / value_number note each value they write in vops */
    VOp *vops;
    int nvops, cvops;
    /* a replay's scratch (plan_replay, plan_entries): each op's shift of the text and of
       `extra`, and its flags */
    int64_t *rp_delta, *rp_dx;
    uint8_t *rp_fl;
    int rp_cap;
} Dec;

static inline uint16_t u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; } /* little-endian hosts */
static inline uint32_t u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t u64(const uint8_t *p) { return (uint64_t)u32(p) | ((uint64_t)u32(p + 4) << 32); }

static int new_node(Dec *d) {
    if (d->nn == d->ncap) {
        int cap = d->ncap ? d->ncap * 2 : 1024;
        if (cap > 1 << 20) return -1;
        TNode *p = PyMem_Realloc(d->nodes, (size_t)cap * sizeof(TNode));
        if (!p) return -1;
        d->nodes = p;
        d->ncap = cap;
    }
    TNode *n = &d->nodes[d->nn];
    memset(n, 0, sizeof(*n));
    n->attrs = n->kids = n->next = n->gid = -1;
    return d->nn++;
}

/* `arr` (of `cap` items) grown to hold `need` items (doubling from `first`, at most 1 << 20);
   returns -1 from the enclosing function if it cannot */
#define ENSURE_CAP(arr, cap, need, first) do { \
        if ((need) > (cap)) { \
            int c_ = (cap) ? (cap) : (first); \
            while (c_ < (need)) c_ *= 2; \
            if (c_ > 1 << 20) return -1; \
            void *p_ = PyMem_Realloc((arr), (size_t)c_ * sizeof *(arr)); \
            if (!p_) return -1; \
            (arr) = p_; \
            (cap) = c_; \
        } \
    } while (0)

static inline __attribute__((always_inline)) int tape_push(Dec *d, uint8_t kind, uint8_t flags, int32_t key,
                                                           size_t off, size_t len, uint64_t num) {
    if (__builtin_expect(d->ntape == d->ctape, 0)) ENSURE_CAP(d->tape, d->ctape, d->ntape + 1, 256);
    Tok *t = &d->tape[d->ntape++];
    t->vop = t->vop_end = d->nvops - 1;
    t->kind = kind;
    t->flags = flags;
    t->key = key;
    t->off = (uint32_t)off;
    t->len = (uint32_t)len;
    t->num = num;
    return 0;
}
#define TAP(d, kind, flags, key, off, len, num) \
    do { if ((d)->taping && tape_push((d), (kind), (flags), (key), (off), (len), (num)) < 0) return -1; } while (0)

/* UTF-16LE units [p, p+units) -> UTF-8 into b, up to a NUL unit (evtx ends its strings there);
 * JSON-escaped when `json`. -1: an unpaired surrogate (declined) or no memory. */
static int utf16_out(Buf *b, const uint8_t *p, uint32_t units, int json, const uint8_t *lim) {
    if (grow(b, (size_t)units * 6 + 16) < 0) return -1;  /* (16: a whole 8-byte store at the end) */
    char *o = b->p + b->n;
    for (uint32_t i = 0; i < units; i++) {
#if defined(__SSE2__)
        /* eight units at a time while the 16 bytes are inside the chunk (`lim`): the plain ASCII
           ones at their head (no escape, no NUL) are stored, the rest of the eight (past
           `units`, or from the first other unit on) left to the code below; the bulk of every
           record, and a value's last few units too */
        while (p + 2 * i + 16 <= lim) {
            __m128i w = _mm_loadu_si128((const __m128i *)(const void *)(p + 2 * i));
            __m128i bad = _mm_cmpeq_epi16(_mm_and_si128(w, _mm_set1_epi16((short)0xFF80)), _mm_setzero_si128());
            bad = _mm_xor_si128(bad, _mm_set1_epi16(-1));                     /* a unit >= 0x80 */
            bad = _mm_or_si128(bad, _mm_cmplt_epi16(w, _mm_set1_epi16(0x20))); /* < 0x20 */
            if (json)
                bad = _mm_or_si128(bad, _mm_or_si128(_mm_cmpeq_epi16(w, _mm_set1_epi16('"')),
                                                     _mm_cmpeq_epi16(w, _mm_set1_epi16('\\'))));
            uint32_t left = units - i;
            unsigned m = (unsigned)_mm_movemask_epi8(bad) | (left < 8 ? 0xFFFFu << (2 * left) : 0u);
            _mm_storel_epi64((__m128i *)(void *)o, _mm_packus_epi16(w, w));
            if (m == 0) {
                o += 8;
                i += 8;
                if (i >= units) break;
                continue;
            }
            uint32_t k = (uint32_t)__builtin_ctz(m) / 2;  /* the plain units before the first other */
            o += k;
            i += k;
            break;
        }
        if (i >= units) break;
#endif
        /* four plain ASCII units at a time (no escape): the bulk of every record */
        while (i + 4 <= units) {
            uint64_t w;
            memcpy(&w, p + 2 * i, 8);
            const uint64_t lo7 = 0x0080008000800080ull;
            if (w & 0xFF80FF80FF80FF80ull) break;                   /* a unit >= 0x80 */
            if (((w + 0x0060006000600060ull) & lo7) != lo7) break;  /* a unit < 0x20 */
            if (json && ((((w ^ 0x0022002200220022ull) + 0x007F007F007F007Full) & lo7) != lo7 ||
                         (((w ^ 0x005C005C005C005Cull) + 0x007F007F007F007Full) & lo7) != lo7))
                break;                                              /* '"' or '\\' */
            o[0] = (char)(w & 0x7F);
            o[1] = (char)((w >> 16) & 0x7F);
            o[2] = (char)((w >> 32) & 0x7F);
            o[3] = (char)((w >> 48) & 0x7F);
            o += 4;
            i += 4;
        }
        if (i >= units) break;
        uint32_t ch = u16(p + 2 * i);
        if (ch == 0) break;
        if (ch < 0x80) {
            if (json && (ch < 0x20 || ch == '"' || ch == '\\')) {
                b->esc = 1;
                *o++ = '\\';
                switch (ch) {
                case '"': *o++ = '"'; break;
                case '\\': *o++ = '\\'; break;
                case '\b': *o++ = 'b'; break;
                case '\f': *o++ = 'f'; break;
                case '\n': *o++ = 'n'; break;
                case '\r': *o++ = 'r'; break;
                case '\t': *o++ = 't'; break;
                default:
                    *o++ = 'u'; *o++ = '0'; *o++ = '0';
                    *o++ = "0123456789ABCDEF"[ch >> 4];
                    *o++ = "0123456789ABCDEF"[ch & 15];
                }
            } else {
                *o++ = (char)ch;
            }
            continue;
        }
        b->high = 1;
        if (ch < 0x800) {
            *o++ = (char)(0xC0 | (ch >> 6));
            *o++ = (char)(0x80 | (ch & 0x3F));
            b->extra += 1;
        } else if (ch >= 0xD800 && ch <= 0xDFFF) {
            if (ch >= 0xDC00 || i + 1 >= units) return -1;
            uint32_t lo = u16(p + 2 * (i + 1));
            if (lo < 0xDC00 || lo > 0xDFFF) return -1;
            i++;
            ch = 0x10000 + ((ch - 0xD800) << 10) + (lo - 0xDC00);
            *o++ = (char)(0xF0 | (ch >> 18));
            *o++ = (char)(0x80 | ((ch >> 12) & 0x3F));
            *o++ = (char)(0x80 | ((ch >> 6) & 0x3F));
            *o++ = (char)(0x80 | (ch & 0x3F));
            b->extra += 3;
        } else {
            *o++ = (char)(0xE0 | (ch >> 12));
            *o++ = (char)(0x80 | ((ch >> 6) & 0x3F));
            *o++ = (char)(0x80 | (ch & 0x3F));
            b->extra += 2;
        }
    }
    b->n = (size_t)(o - b->p);
    return 0;
}

/* The name at chunk offset `off` (next link, hash, count, UTF-16, NUL) -> its cache slot;
 * *end (if not NULL) gets the offset just past it. -1: declined. */
static int name_at(Dec *d, uint32_t off, uint32_t *end) {
    if (off < CHUNK_HEADER || off > CHUNK - 8) return -1;
    uint32_t units = u16(d->c + off + 6);
    uint32_t stop = off + 8 + 2 * units + 2;
    if (stop > CHUNK) return -1;
    if (end) *end = stop;
    uint32_t h = (off * 2654435761u) % NCAP;
    for (int probes = 0; probes < NCAP; probes++, h = (h + 1) % NCAP) {
        if (d->nkey[h] == off + 1) return (int)h;
        if (d->nkey[h] == 0) break;
    }
    if (d->nkey[h] != 0 || units == 0) return -1;
    const uint8_t *s = d->c + off + 8;
    for (uint32_t i = 0; i < units; i++) { /* names evtx writes unescaped: keep to plain ones */
        uint32_t ch = u16(s + 2 * i);
        if (ch < 0x20 || ch == '"' || ch == '\\') return -1;
    }
    size_t start = d->names.n, extra0 = d->names.extra;
    d->names.high = 0;
    if (utf16_out(&d->names, s, units, 0, d->c + CHUNK) < 0) return -1;
    d->nkey[h] = off + 1;
    d->nstart[h] = (uint32_t)start;
    d->nlen[h] = (uint32_t)(d->names.n - start);
    d->nextra[h] = (uint32_t)(d->names.extra - extra0);
    const char *t = d->names.p + start;
    size_t n = d->names.n - start;
    uint8_t f = 0;
    if (n == 4 && memcmp(t, "Data", 4) == 0) f |= F_DATA;
    if ((n == 9 && memcmp(t, "EventData", 9) == 0) || (n == 8 && memcmp(t, "UserData", 8) == 0)) f |= F_CONTAINER;
    if (n == 4 && memcmp(t, "Name", 4) == 0) f |= F_NAMEATTR;
    if (d->names.high) f |= F_HIGH;
    d->nflag[h] = f;
    d->nid[h] = (int32_t)h;
    uint32_t th = 2166136261u;
    for (size_t i = 0; i < n; i++) th = (th ^ (uint8_t)t[i]) * 16777619u;
    d->nhash[h] = th;
    for (int i = 0; i < d->nnames; i++) { /* a few dozen names a chunk: once per new one */
        int32_t o = d->order[i];
        if (d->nhash[o] == th && d->nlen[o] == n && memcmp(d->names.p + d->nstart[o], t, n) == 0) {
            d->nid[h] = o;
            break;
        }
    }
    if (d->nnames < NCAP) d->order[d->nnames++] = (int32_t)h;
    return (int)h;
}

/* A name reference at `p` (4-byte offset; the name follows inline when it points just past
 * the field). Returns the slot, *pp moved past the field (and the inline name). */
static int name_ref(Dec *d, uint32_t *pp, uint32_t end) {
    uint32_t p = *pp;
    if (p + 4 > end) return -1;
    uint32_t off = u32(d->c + p);
    uint32_t stop;
    int slot = name_at(d, off, &stop);
    if (slot < 0) return -1;
    if (off == p + 4) {
        if (stop > end) return -1;
        *pp = stop;
    } else {
        if (off > p) return -1; /* a forward reference that is not inline: not how writers do it */
        *pp = p + 4;
    }
    return slot;
}

/* value-ish content tokens (value text, substitutions) at *pp appended after *last. */
static int content_token(Dec *d, uint32_t *pp, uint32_t end, int32_t *first, int32_t *last) {
    uint32_t p = *pp;
    const uint8_t *c = d->c;
    uint8_t tok = c[p];
    int n;
    if ((tok & 0xBF) == 0x05) { /* value text: only UTF-16 strings appear in templates */
        if (p + 4 > end || c[p + 1] != 0x01) return -1;
        uint32_t units = u16(c + p + 2);
        if (units == 0 || p + 4 + 2 * units > end) return -1;
        for (uint32_t k = 0; k < units; k++) /* evtx cuts text at a NUL: not taken */
            if (u16(c + p + 4 + 2 * k) == 0) return -1;
        if ((n = new_node(d)) < 0) return -1;
        d->nodes[n].kind = N_TEXT;
        d->nodes[n].off = p + 4;
        d->nodes[n].len = units;
        *pp = p + 4 + 2 * units;
    } else if (tok == 0x0D || tok == 0x0E) {
        if (p + 4 > end) return -1;
        uint8_t t = c[p + 3]; /* the declared type: evtx fails on an unknown one */
        if (t > 0x15 && t != 0x21) return -1;
        if ((n = new_node(d)) < 0) return -1;
        d->nodes[n].kind = N_SUBST;
        d->nodes[n].optional = tok == 0x0E;
        d->nodes[n].idx = u16(c + p + 1);
        *pp = p + 4;
    } else {
        return -1;
    }
    if (*last >= 0) d->nodes[*last].next = n; else *first = n;
    *last = n;
    return 0;
}

static int parse_element(Dec *d, uint32_t *pp, uint32_t end, int depth) {
    const uint8_t *c = d->c;
    uint32_t p = *pp;
    if (depth > MAX_DEPTH || p + 11 > end) return -1;
    uint8_t tok = c[p];
    if ((tok & 0xBF) != 0x01) return -1;
    p += 7; /* token, dependency id, data size */
    int name = name_ref(d, &p, end);
    if (name < 0) return -1;
    if (tok & 0x40) {
        if (p + 4 > end) return -1;
        p += 4; /* attribute list size */
    }
    int el = new_node(d);
    if (el < 0) return -1;
    d->nodes[el].kind = N_ELEM;
    d->nodes[el].name = name;
    int32_t alast = -1;
    while (p < end && (c[p] & 0xBF) == 0x06) {
        p += 1;
        int an = name_ref(d, &p, end);
        if (an < 0) return -1;
        int a = new_node(d);
        if (a < 0) return -1;
        d->nodes[a].kind = N_ATTR;
        d->nodes[a].name = an;
        if (alast >= 0) d->nodes[alast].next = a; else d->nodes[el].attrs = a;
        alast = a;
        int32_t vfirst = -1, vlast = -1;
        while (p < end) {
            uint8_t t = c[p] & 0xBF;
            if (t == 0x06 || t == 0x02 || t == 0x03) break;
            if (content_token(d, &p, end, &vfirst, &vlast) < 0) return -1;
        }
        d->nodes[a].kids = vfirst;
    }
    if (p >= end) return -1;
    if (c[p] == 0x03) { /* close empty element */
        *pp = p + 1;
        return el;
    }
    if (c[p] != 0x02) return -1;
    p++;
    int32_t kfirst = -1, klast = -1;
    for (;;) {
        if (p >= end) return -1;
        uint8_t t = c[p];
        if (t == 0x04) {
            p++;
            break;
        }
        if ((t & 0xBF) == 0x01) {
            int k = parse_element(d, &p, end, depth + 1);
            if (k < 0) return -1;
            if (klast >= 0) d->nodes[klast].next = k; else kfirst = k;
            klast = k;
        } else if (content_token(d, &p, end, &kfirst, &klast) < 0) {
            return -1;
        }
    }
    d->nodes[el].kids = kfirst;
    *pp = p;
    return el;
}

static uint64_t key_hash_any(const uint8_t *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ULL;
    return h ^ (h >> 31) ^ n;
}

/* ---------- the process-wide template registry ----------
 * A template's id by what the writer reads of it: its tree of elements, attributes, text and
 * substitutions, each name by its text and each text by its UTF-16 units (not by the chunk
 * offsets they sit at). Two chunks' templates with the same id are written alike, so a plan
 * (see Plan) made in one chunk serves the like records of every later chunk. */
#define GT 8192          /* registry slots; at most GT / 2 templates get an id */
static struct { uint64_t h; uint8_t *ser; uint32_t n; } g_tmpl[GT];
static int g_ntmpl;
static Buf g_ser;        /* the serialization being made */

static int ser_u32(Buf *b, uint32_t v) {
    PUT(b, &v, 4);
    return 0;
}

static int ser_nodes(const Dec *d, int32_t first, int depth);

static int ser_node(const Dec *d, int32_t n, int depth) {
    Buf *b = &g_ser;
    const TNode *t = &d->nodes[n];
    if (depth > MAX_DEPTH + 2) return -1;
    PUTC(b, 'A' + t->kind);
    switch (t->kind) {
    case N_ELEM:
    case N_ATTR:
        TRY(ser_u32(b, d->nlen[t->name]));
        PUT(b, d->names.p + d->nstart[t->name], d->nlen[t->name]);
        if (t->kind == N_ELEM) {
            TRY(ser_nodes(d, t->attrs, depth + 1));
        }
        return ser_nodes(d, t->kids, depth + 1);
    case N_TEXT:
        TRY(ser_u32(b, t->len));
        PUT(b, d->c + t->off, 2 * (size_t)t->len);
        return 0;
    default:  /* N_SUBST */
        PUTC(b, t->optional);
        return ser_u32(b, t->idx);
    }
}

static int ser_nodes(const Dec *d, int32_t first, int depth) {
    Buf *b = &g_ser;
    PUTC(b, '(');
    for (int32_t n = first; n >= 0; n = d->nodes[n].next) TRY(ser_node(d, n, depth));
    PUTC(b, ')');
    return 0;
}

/* the id of the template whose root element is `root` (registered now if new), -1 if none */
static int32_t template_gid(const Dec *d, int32_t root) {
    g_ser.n = 0;
    if (ser_node(d, root, 0) < 0) return -1;
    uint64_t h = key_hash_any((const uint8_t *)g_ser.p, g_ser.n);
    size_t slot = (size_t)(h ^ (h >> 29)) & (GT - 1);
    for (int probes = 0; probes < GT; probes++, slot = (slot + 1) & (GT - 1)) {
        if (g_tmpl[slot].ser == NULL) break;
        if (g_tmpl[slot].h == h && g_tmpl[slot].n == g_ser.n && memcmp(g_tmpl[slot].ser, g_ser.p, g_ser.n) == 0)
            return (int32_t)slot;
    }
    if (g_tmpl[slot].ser != NULL || g_ntmpl >= GT / 2) return -1;
    uint8_t *copy = PyMem_Malloc(g_ser.n ? g_ser.n : 1);
    if (copy == NULL) return -1;
    memcpy(copy, g_ser.p, g_ser.n);
    g_tmpl[slot].h = h;
    g_tmpl[slot].ser = copy;
    g_tmpl[slot].n = (uint32_t)g_ser.n;
    g_ntmpl++;
    return (int32_t)slot;
}

/* The template definition at `off` (next link, GUID, size, body) -> its root element node. */
static int template_at(Dec *d, uint32_t off) {
    uint32_t h = (off * 2654435761u) % TCAP;
    for (int probes = 0; probes < TCAP; probes++, h = (h + 1) % TCAP) {
        if (d->tkey[h] == off + 1) return d->tval[h];
        if (d->tkey[h] == 0) break;
    }
    if (d->tkey[h] != 0) return -1;
    if (off < CHUNK_HEADER || off > CHUNK - 24) return -1;
    uint32_t size = u32(d->c + off + 20);
    uint32_t p = off + 24, end = p + size;
    if (size > CHUNK || end > CHUNK || p + 4 > end) return -1;
    if (d->c[p] != 0x0F) return -1; /* fragment header */
    p += 4;
    int root = parse_element(d, &p, end, 0);
    if (root < 0 || p >= end || d->c[p] != 0x00) return -1;
    d->tkey[h] = off + 1;
    d->tval[h] = root;
    if (d->taping) d->nodes[root].gid = template_gid(d, root);
    return root;
}

static int instance(Dec *d, uint32_t *pp, uint32_t end, int nest);

/* size of each fixed-size value type (0: variable or declined) */
static uint32_t fixed_size(uint8_t t) {
    switch (t) {
    case 0x03: case 0x04: return 1;
    case 0x05: case 0x06: return 2;
    case 0x07: case 0x08: case 0x0D: case 0x14: return 4;
    case 0x09: case 0x0A: case 0x11: case 0x15: return 8;
    case 0x0F: case 0x12: return 16;
    default: return 0;
    }
}

/* A template instance at *pp (token 0x0C): its context index, *pp past its values. */
static int instance(Dec *d, uint32_t *pp, uint32_t end, int nest) {
    const uint8_t *c = d->c;
    uint32_t p = *pp;
    if (nest > MAX_NEST || p + 10 > end || c[p] != 0x0C) return -1;
    uint32_t def = u32(c + p + 6);
    p += 10;
    if (def == p) { /* the definition follows inline */
        if (p + 24 > end) return -1;
        uint32_t size = u32(c + p + 20);
        if (size > end - p - 24) return -1;
        p += 24 + size;
    } else if (def > p) {
        return -1;
    }
    int root = template_at(d, def);
    if (root < 0) return -1;
    if (p + 4 > end) return -1;
    uint32_t count = u32(c + p);
    p += 4;
    if (count > MAX_VALUES || (uint64_t)p + 4ull * count > end) return -1;
    uint32_t desc = p, vp = p + 4 * count;
    if (d->nctx == d->cctx) {
        int cap = d->cctx ? d->cctx * 2 : 16;
        Ctx *x = PyMem_Realloc(d->ctx, (size_t)cap * sizeof(Ctx));
        if (!x) return -1;
        d->ctx = x;
        d->cctx = cap;
    }
    int ci = d->nctx++;
    if (d->nvals + (int)count > d->cvals) {
        int cap = d->cvals ? d->cvals : 256;
        while (cap < d->nvals + (int)count) cap *= 2;
        Val *v = PyMem_Realloc(d->vals, (size_t)cap * sizeof(Val));
        if (!v) return -1;
        d->vals = v;
        d->cvals = cap;
    }
    int base = d->nvals;
    d->nvals += (int)count;
    d->ctx[ci].root = root;
    d->ctx[ci].vals = base;
    d->ctx[ci].count = count;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t size = u16(c + desc + 4 * i);
        uint8_t t = c[desc + 4 * i + 2];
        if (size > end - vp) return -1;
        Val *v = &d->vals[base + (int)i];
        v->type = t;
        v->off = vp;
        v->len = size;
        v->sub = -1;
        v->empty = (t == 0x00) || ((t == 0x02 || t == 0x0E || t == 0x21) && size == 0);
        uint32_t fs = fixed_size(t);
        if (fs) {
            if (size != fs) return -1;
            /* a bool evtx reads only as 0 or 1 (other values it writes as an integer) */
            if (t == 0x0D && u32(c + vp) > 1) return -1;
        } else if (t == 0x00) {
            if (size != 0) return -1;
        } else if (t == 0x01) { /* UTF-16: evtx cuts it at the first NUL (utf16_out stops there) */
            if (size & 1) return -1;
            v->len = size / 2;
            v->empty = size == 0 || u16(c + vp) == 0;
        } else if (t == 0x02) { /* ANSI: only ASCII without NUL (no codec, no NUL rule) */
            for (uint32_t k = 0; k < size; k++)
                if (c[vp + k] == 0 || c[vp + k] >= 0x80) return -1;
        } else if (t == 0x0E) {
            /* binary: any size */
        } else if (t == 0x13) { /* SID: revision, count, 6-byte authority, count x 4 */
            if (size < 8 || size != 8 + 4u * c[vp + 1]) return -1;
        } else if (t == 0x21) { /* binary XML: fragment header, a template instance, end */
            if (size > 0) {
                uint32_t q = vp, qend = vp + size;
                if (q + 4 > qend || c[q] != 0x0F) return -1;
                q += 4;
                int sub = instance(d, &q, qend, nest + 1);
                if (sub < 0 || q >= qend || c[q] != 0x00) return -1;
                d->vals[base + (int)i].sub = sub; /* d->vals may have moved */
            }
        } else {
            return -1; /* arrays, floats, SizeT, EvtHandle, EvtXml, unknown */
        }
        vp += size;
    }
    *pp = vp;
    return ci;
}

/* evtx reads the header's string and template tables (and the chains their entries start)
 * before any record, and fails the chunk when one is out of bounds: decline such a chunk, and
 * one whose listed templates this parser does not take. */
static int tables_ok(Dec *d) {
    const uint8_t *c = d->c;
    for (int i = 0; i < 64; i++) {
        uint32_t off = u32(c + 128 + 4 * i);
        for (int steps = 0; off; steps++) {
            if (steps > 4096 || off < CHUNK_HEADER || off > CHUNK - 8) return -1;
            if (off + 8 + 2u * u16(c + off + 6) + 2 > CHUNK) return -1;
            off = u32(c + off);
        }
    }
    for (int i = 0; i < 32; i++) {
        uint32_t off = u32(c + 384 + 4 * i);
        for (int steps = 0; off; steps++) {
            if (steps > 4096 || template_at(d, off) < 0) return -1;
            off = u32(c + off);
        }
    }
    return 0;
}

/* ---------- the resolved tree, walked the way evtx's renderer sees it ---------- */
enum { R_NONE, R_ELEM, R_TEXT, R_VAL };
typedef struct {
    int kind;
    int32_t node; /* R_ELEM: element node; R_TEXT: text node */
    int32_t ctx;  /* R_ELEM: its context */
    const Val *v; /* R_VAL */
} RItem;

static inline int optional_empty(const Val *v) { return v->empty; }

/* The item that node `n` (in context `ctx`) stands for; R_NONE when dropped. */
static inline void resolve(const Dec *d, int32_t n, int32_t ctx, RItem *r) {
    const TNode *t = &d->nodes[n];
    r->kind = R_NONE;
    if (t->kind == N_ELEM) {
        r->kind = R_ELEM;
        r->node = n;
        r->ctx = ctx;
    } else if (t->kind == N_TEXT) {
        r->kind = R_TEXT;
        r->node = n;
    } else if (t->kind == N_SUBST) {
        const Ctx *x = &d->ctx[ctx];
        if (t->idx >= x->count) return;
        const Val *v = &d->vals[x->vals + t->idx];
        if (t->optional && optional_empty(v)) return;
        if (v->type == 0x21) {
            if (v->empty) return;
            r->kind = R_ELEM;
            r->ctx = v->sub;
            r->node = d->ctx[v->sub].root;
            return;
        }
        r->kind = R_VAL;
        r->v = v;
    }
}

static int has_text(const Dec *d, int32_t first, int32_t ctx) {
    RItem r;
    for (int32_t n = first; n >= 0; n = d->nodes[n].next) {
        resolve(d, n, ctx, &r);
        if (r.kind == R_TEXT) return 1; /* template text is never empty (see content_token) */
        if (r.kind == R_VAL && !optional_empty(r.v)) return 1;
    }
    return 0;
}

static int has_elem(const Dec *d, int32_t first, int32_t ctx) {
    RItem r;
    for (int32_t n = first; n >= 0; n = d->nodes[n].next) {
        resolve(d, n, ctx, &r);
        if (r.kind == R_ELEM) return 1;
    }
    return 0;
}

static int write_dec_u(Buf *b, uint64_t v) {
    static const char pairs[201] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    char tmp[24];
    int k = 24;  /* written from the end, two digits a step */
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        tmp[--k] = pairs[2 * r + 1];
        tmp[--k] = pairs[2 * r];
    }
    if (v >= 10) {
        tmp[--k] = pairs[2 * v + 1];
        tmp[--k] = pairs[2 * v];
    } else {
        tmp[--k] = (char)('0' + v);
    }
    if (grow(b, (size_t)(24 - k)) < 0) return -1;
    memcpy(b->p + b->n, tmp + k, (size_t)(24 - k));
    b->n += (size_t)(24 - k);
    return 0;
}

static int write_dec_i(Buf *b, int64_t v) {
    if (v < 0) {
        PUTC(b, '-');
        return write_dec_u(b, (uint64_t)0 - (uint64_t)v);
    }
    return write_dec_u(b, (uint64_t)v);
}

static int write_hex_lower(Buf *b, uint64_t v) {
    char tmp[16];
    int k = 0;
    PUTS(b, "0x");
    do { tmp[k++] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    if (grow(b, (size_t)k) < 0) return -1;
    while (k) b->p[b->n++] = tmp[--k];
    return 0;
}

/* days since 1970-01-01 -> civil date (Howard Hinnant's algorithm) */
static void civil(int64_t z, int64_t *y, unsigned *m, unsigned *dd) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *dd = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int write_time(Buf *b, int64_t y, unsigned mo, unsigned dd, unsigned h, unsigned mi, unsigned s, unsigned us) {
    if (y < 0 || y > 9999) return -1;
    char t[27];
    unsigned parts[7] = {(unsigned)y, mo, dd, h, mi, s, us};
    static const int width[7] = {4, 2, 2, 2, 2, 2, 6};
    static const char sep[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
    int k = 0;
    for (int i = 0; i < 7; i++) {
        unsigned v = parts[i];
        for (int j = width[i] - 1; j >= 0; j--) {
            t[k + j] = (char)('0' + v % 10);
            v /= 10;
        }
        k += width[i];
        t[k++] = sep[i];
    }
    PUT(b, t, 27);
    return 0;
}

static int write_filetime(Buf *b, uint64_t ft) {
    uint64_t us_total = ft / 10; /* 100 ns ticks since 1601-01-01 */
    uint64_t secs = us_total / 1000000;
    unsigned us = (unsigned)(us_total % 1000000);
    int64_t unix_s = (int64_t)secs - 11644473600LL;
    int64_t days = unix_s >= 0 ? unix_s / 86400 : -((-unix_s + 86399) / 86400);
    int64_t rem = unix_s - days * 86400;
    int64_t y;
    unsigned m, dd;
    civil(days, &y, &m, &dd);
    return write_time(b, y, m, dd, (unsigned)(rem / 3600), (unsigned)(rem % 3600 / 60), (unsigned)(rem % 60), us);
}

static int write_systime(Buf *b, const uint8_t *p) {
    unsigned y = u16(p), mo = u16(p + 2), dd = u16(p + 6), h = u16(p + 8), mi = u16(p + 10),
             s = u16(p + 12), ms = u16(p + 14);
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1601 || y > 9999 || mo < 1 || mo > 12 || dd < 1 || dd > mdays[mo - 1] || h > 23 ||
        mi > 59 || s > 59 || ms > 999)
        return -1;
    if (mo == 2 && dd == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return -1;
    return write_time(b, y, mo, dd, h, mi, s, ms * 1000);
}

static int vop_begin(Dec *d, const Val *v, uint8_t num) {
    ENSURE_CAP(d->vops, d->cvops, d->nvops + 1, 64);
    VOp *o = &d->vops[d->nvops++];
    o->start = (uint32_t)d->out.n;
    o->extra0 = (uint32_t)d->out.extra;
    o->vidx = (int32_t)(v - d->vals);
    o->num = num;
    return 0;
}

static inline void vop_end(Dec *d) {
    VOp *o = &d->vops[d->nvops - 1];
    o->end = (uint32_t)d->out.n;
    o->extra1 = (uint32_t)d->out.extra;
}

static int value_text_raw(Dec *d, const Val *v);

/* A value's text (inside a JSON string). */
static int value_text(Dec *d, const Val *v) {
    if (!d->recording) return value_text_raw(d, v);
    TRY(vop_begin(d, v, 0));
    TRY(value_text_raw(d, v));
    vop_end(d);
    return 0;
}

static int value_text_raw(Dec *d, const Val *v) {
    Buf *b = &d->out;
    const uint8_t *p = d->c + v->off;
    static const char HEX[] = "0123456789ABCDEF";
    switch (v->type) {
    case 0x00: return 0;
    case 0x01: return utf16_out(b, p, v->len, 1, d->c + CHUNK);
    case 0x02:
        for (uint32_t i = 0; i < v->len; i++) {
            uint8_t ch = p[i];
            if (ch < 0x20 || ch == '"' || ch == '\\') {
                b->esc = 1;
                char esc[6] = {'\\', 'u', '0', '0', "0123456789ABCDEF"[ch >> 4], "0123456789ABCDEF"[ch & 15]};
                switch (ch) {
                case '"': PUTS(b, "\\\""); break;
                case '\\': PUTS(b, "\\\\"); break;
                case '\b': PUTS(b, "\\b"); break;
                case '\f': PUTS(b, "\\f"); break;
                case '\n': PUTS(b, "\\n"); break;
                case '\r': PUTS(b, "\\r"); break;
                case '\t': PUTS(b, "\\t"); break;
                default: PUT(b, esc, 6);
                }
            } else {
                PUTC(b, ch);
            }
        }
        return 0;
    case 0x03: return write_dec_i(b, (int8_t)p[0]);
    case 0x04: return write_dec_u(b, p[0]);
    case 0x05: return write_dec_i(b, (int16_t)u16(p));
    case 0x06: return write_dec_u(b, u16(p));
    case 0x07: return write_dec_i(b, (int32_t)u32(p));
    case 0x08: return write_dec_u(b, u32(p));
    case 0x09: return write_dec_i(b, (int64_t)u64(p));
    case 0x0A: return write_dec_u(b, u64(p));
    case 0x0D:
        if (u32(p)) PUTS(b, "true"); else PUTS(b, "false");
        return 0;
    case 0x0E:
        if (grow(b, (size_t)v->len * 2) < 0) return -1;
        for (uint32_t i = 0; i < v->len; i++) {
            b->p[b->n++] = HEX[p[i] >> 4];
            b->p[b->n++] = HEX[p[i] & 15];
        }
        return 0;
    case 0x0F: {
        static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
        char g[36];
        int k = 0;
        for (int i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10) g[k++] = '-';
            g[k++] = HEX[p[order[i]] >> 4];
            g[k++] = HEX[p[order[i]] & 15];
        }
        PUT(b, g, 36);
        return 0;
    }
    case 0x11: return write_filetime(b, u64(p));
    case 0x12: return write_systime(b, p);
    case 0x13: {
        PUTS(b, "S-");
        TRY(write_dec_u(b, p[0]));
        PUTC(b, '-');
        uint64_t auth = 0;
        for (int i = 2; i < 8; i++) auth = (auth << 8) | p[i];
        TRY(write_dec_u(b, auth));
        for (unsigned i = 0; i < p[1]; i++) {
            PUTC(b, '-');
            TRY(write_dec_u(b, u32(p + 8 + 4 * i)));
        }
        return 0;
    }
    case 0x14: return write_hex_lower(b, u32(p));
    case 0x15: return write_hex_lower(b, u64(p));
    default: return -1;
    }
}

static int is_number_type(uint8_t t) { return (t >= 0x03 && t <= 0x0A) || t == 0x0D; }

static int value_number_raw(Dec *d, const Val *v);

static int value_number(Dec *d, const Val *v) {
    if (!d->recording) return value_number_raw(d, v);
    TRY(vop_begin(d, v, 1));
    TRY(value_number_raw(d, v));
    vop_end(d);
    return 0;
}

/* a number value's magnitude and sign, as JSON writes it */
static uint64_t number_of(const Dec *d, const Val *v, int *neg) {
    const uint8_t *p = d->c + v->off;
    int64_t x = 0;
    uint64_t m = 0;
    int sgn = 1;
    switch (v->type) {
    case 0x03: x = (int8_t)p[0]; break;
    case 0x04: m = p[0]; sgn = 0; break;
    case 0x05: x = (int16_t)u16(p); break;
    case 0x06: m = u16(p); sgn = 0; break;
    case 0x07: x = (int32_t)u32(p); break;
    case 0x08: m = u32(p); sgn = 0; break;
    case 0x09: x = (int64_t)u64(p); break;
    default: m = u64(p); sgn = 0; break;  /* 0x0A */
    }
    *neg = sgn && x < 0;
    if (sgn) m = *neg ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
    return m;
}

static int value_number_raw(Dec *d, const Val *v) {
    Buf *b = &d->out;
    const uint8_t *p = d->c + v->off;
    if (v->type == 0x0D) {
        int t = u32(p) != 0;
        size_t at = b->n;
        if (t) PUTS(b, "true"); else PUTS(b, "false");
        TAP(d, t ? K_TRUE : K_FALSE, 0, 0, at, b->n - at, 0);
        return 0;
    }
    if (d->taping) {
        int neg;
        uint64_t m = number_of(d, v, &neg);
        size_t at = b->n;
        TRY(value_text_raw(d, v));
        TAP(d, K_NUM, neg ? TF_NEG : 0, 0, at, b->n - at, m);
        return 0;
    }
    return value_text_raw(d, v);
}

/* A JSON string's quotes around what the caller writes between them, noted on the tape as
   `kind` (K_STR, or K_KEY with its `key` and `num`) with whether it holds an escape or a byte
   >= 0x80 (the record's own flags are kept aside meanwhile). */
typedef struct { size_t start, extra; int high, esc, vop; } Quote;

static inline int quote_open(Dec *d, Quote *q) {
    PUTC(&d->out, '"');
    q->start = d->out.n;
    q->extra = d->out.extra;
    q->vop = d->nvops - 1;
    q->high = d->out.high;
    q->esc = d->out.esc;
    d->out.high = d->out.esc = 0;
    return 0;
}

static inline int quote_close(Dec *d, const Quote *q, uint8_t kind, int32_t key, uint64_t num) {
    Buf *b = &d->out;
    uint8_t fl = (uint8_t)((b->high ? TF_HIGH : 0) | (b->esc ? TF_ESC : 0));
    if (kind == K_STR)  /* num: the span in code points (where the str is 1-byte Latin-1) */
        num = ((uint64_t)(q->start - q->extra) << 32) | (uint64_t)(b->n - q->start - (b->extra - q->extra));
    TAP(d, kind, fl, key, q->start, b->n - q->start, num);
    if (d->taping) d->tape[d->ntape - 1].vop = q->vop;
    b->high |= q->high;
    b->esc |= q->esc;
    PUTC(b, '"');
    return 0;
}

/* `"name` + suffix `":` for a name slot; on the tape, a key of that slot (KH_NONE when a suffix
   makes it another text) */
static int put_name(Dec *d, int32_t slot);

/* text content of nodes (elements skipped): the inside of a JSON string */
static int text_content(Dec *d, int32_t first, int32_t ctx) {
    RItem r;
    for (int32_t n = first; n >= 0; n = d->nodes[n].next) {
        resolve(d, n, ctx, &r);
        if (r.kind == R_TEXT) {
            TRY(utf16_out(&d->out, d->c + d->nodes[n].off, d->nodes[n].len, 1, d->c + CHUNK));
        } else if (r.kind == R_VAL) {
            TRY(value_text(d, r.v));
        }
    }
    return 0;
}

/* evtx's render_content_as_json_value: a lone number value unquoted, else the text quoted.
 * `skip`: the *_skip_elements flavour (elements and empty values do not count). */
static int content_value(Dec *d, int32_t first, int32_t ctx, int skip) {
    RItem r;
    const Val *single = NULL;
    int count = 0, ok = 1;
    for (int32_t n = first; n >= 0 && ok; n = d->nodes[n].next) {
        resolve(d, n, ctx, &r);
        if (r.kind == R_NONE) continue;
        if (!skip) {
            count++;
            if (r.kind == R_VAL) single = r.v;
            continue;
        }
        if (r.kind == R_ELEM) continue;
        if (r.kind == R_TEXT) { ok = 0; break; }
        if (optional_empty(r.v)) continue;
        if (single) { ok = 0; break; }
        single = r.v;
    }
    if (!skip && count != 1) ok = 0;
    if (ok && single && is_number_type(single->type)) return value_number(d, single);
    Quote q;
    TRY(quote_open(d, &q));
    TRY(text_content(d, first, ctx));
    return quote_close(d, &q, K_STR, 0, 0);
}

static int element_value(Dec *d, int32_t el, int32_t ctx, int container, int depth);

static int put_name(Dec *d, int32_t slot) {
    PUT(&d->out, d->names.p + d->nstart[slot], d->nlen[slot]);
    if (d->nflag[slot] & F_HIGH) {
        d->out.high = 1;
        d->out.extra += d->nextra[slot];
    }
    return 0;
}

static int attrs_have_text(const Dec *d, int32_t el, int32_t ctx) {
    for (int32_t a = d->nodes[el].attrs; a >= 0; a = d->nodes[a].next)
        if (has_text(d, d->nodes[a].kids, ctx)) return 1;
    return 0;
}

static int32_t name_attr(const Dec *d, int32_t el) {
    for (int32_t a = d->nodes[el].attrs; a >= 0; a = d->nodes[a].next)
        if (d->nflag[d->nodes[a].name] & F_NAMEATTR) return a;
    return -1;
}

static int body(Dec *d, int32_t el, int32_t ctx, int in_container, int depth);

/* The common leaf, `<X>%n</X>`: one substitution that is no element. 1 (*v: the value, NULL
 * when dropped) or 0 (any other content: the general path). */
static inline int lone_subst(const Dec *d, int32_t kids, int32_t ctx, const Val **v) {
    if (kids < 0 || d->nodes[kids].next >= 0 || d->nodes[kids].kind != N_SUBST) return 0;
    RItem r;
    resolve(d, kids, ctx, &r);
    if (r.kind == R_ELEM) return 0;
    *v = r.kind == R_VAL && !optional_empty(r.v) ? r.v : NULL;
    return 1;
}

/* one value as content_value writes a lone one: a number, or its text quoted */
static int lone_value(Dec *d, const Val *v) {
    if (is_number_type(v->type)) return value_number(d, v);
    Quote q;
    TRY(quote_open(d, &q));
    TRY(value_text(d, v));
    return quote_close(d, &q, K_STR, 0, 0);
}

static inline int put_empty(Dec *d) {
    PUTS(&d->out, "\"\"");
    TAP(d, K_STR, 0, 0, d->out.n - 1, 0, (uint64_t)(d->out.n - 1 - d->out.extra) << 32);
    return 0;
}

static inline int put_null(Dec *d) {
    PUTS(&d->out, "null");
    TAP(d, K_NULL, 0, 0, 0, 0, 0);
    return 0;
}

/* `"` + the name of `slot` + `"` as a key (followed by `suffix` when > 0) */
static int put_key(Dec *d, int32_t slot, int suffix) {
    Buf *b = &d->out;
    PUTC(b, '"');
    size_t at = b->n;
    TRY(put_name(d, slot));
    if (suffix > 0) {
        PUTC(b, '_');
        TRY(write_dec_u(b, (uint64_t)suffix));
    }
    TAP(d, K_KEY, (d->nflag[slot] & F_HIGH) ? TF_HIGH : 0, suffix > 0 ? KH_NONE : slot, at, b->n - at, 0);
    PUTS(b, "\":");
    return 0;
}

/* one of the keys evtx writes itself ("#attributes", "#text", "Data"), with its ':' */
#define PUT_LITKEY(d, lit, kh) do { PUTS(&(d)->out, "\"" lit "\":"); \
    TAP((d), K_KEY, 0, (kh), (d)->out.n - 2 - (sizeof(lit) - 1), sizeof(lit) - 1, 0); } while (0)

static int data_value(Dec *d, int32_t el, int32_t ctx, int depth) {
    int32_t kids = d->nodes[el].kids;
    const Val *v;
    if (lone_subst(d, kids, ctx, &v)) {
        if (v) return lone_value(d, v);
        return put_empty(d);
    }
    int elem = has_elem(d, kids, ctx);
    if (!has_text(d, kids, ctx) && !elem)
        return put_empty(d);
    if (elem) return body(d, el, ctx, 0, depth + 1);
    return content_value(d, kids, ctx, 0);
}

static int body(Dec *d, int32_t el, int32_t ctx, int in_container, int depth) {
    if (depth > MAX_DEPTH * 2) return -1;
    Buf *b = &d->out;
    const TNode *e = &d->nodes[el];
    RItem r;
    /* one look at the children: text among them, and (in EventData/UserData) whether the
     * Data children are named (flattened) or how many there are (positional) */
    int flatten = 0, text = 0, positional = 0, positional_done = 0;
    for (int32_t n = e->kids; n >= 0; n = d->nodes[n].next) {
        resolve(d, n, ctx, &r);
        if (r.kind == R_TEXT || (r.kind == R_VAL && !optional_empty(r.v))) text = 1;
        if (!in_container || r.kind != R_ELEM || !(d->nflag[d->nodes[r.node].name] & F_DATA)) continue;
        positional++;
        if (!flatten) {
            int32_t a = name_attr(d, r.node);
            if (a >= 0 && has_text(d, d->nodes[a].kids, r.ctx)) flatten = 1;
        }
    }
    PUTC(b, '{');
    TAP(d, K_OBJ, 0, 0, 0, 0, 0);
    int wrote = 0;
    for (int32_t a = e->attrs; a >= 0; a = d->nodes[a].next) {
        int32_t ak = d->nodes[a].kids;
        const Val *v = NULL;
        int lone = lone_subst(d, ak, ctx, &v);
        if (lone ? !v : !has_text(d, ak, ctx)) continue;
        if (!wrote) {
            PUT_LITKEY(d, "#attributes", KH_ATTRS);
            PUTC(b, '{');
            TAP(d, K_OBJ, 0, 0, 0, 0, 0);
        } else {
            PUTC(b, ',');
        }
        wrote = 1;
        TRY(put_key(d, d->nodes[a].name, 0));
        TRY(lone ? lone_value(d, v) : content_value(d, ak, ctx, 0));
    }
    if (wrote) {
        PUTC(b, '}');
        TAP(d, K_END, 0, 0, 0, 0, 0);
    }
    if (text) {
        if (wrote) PUTC(b, ',');
        wrote = 1;
        PUT_LITKEY(d, "#text", KH_TEXT);
        TRY(content_value(d, e->kids, ctx, 1));
    }
    int32_t seen[MAX_UNIQUE_NAMES];
    uint16_t seen_count[MAX_UNIQUE_NAMES];
    int nseen = 0;
    for (int32_t n = e->kids; n >= 0; n = d->nodes[n].next) {
        resolve(d, n, ctx, &r);
        if (r.kind != R_ELEM) continue;
        int32_t cn = r.node;
        int32_t slot = d->nodes[cn].name;
        if (in_container && (d->nflag[slot] & F_DATA)) {
            if (flatten) {
                int32_t a = name_attr(d, cn);
                if (a < 0 || !has_text(d, d->nodes[a].kids, r.ctx)) continue;
                if (wrote) PUTC(b, ',');
                wrote = 1;
                Quote q;
                int32_t nk = d->nodes[a].kids;  /* the Name: a text node of the template, mostly */
                TRY(quote_open(d, &q));
                TRY(text_content(d, nk, r.ctx));
                int text_node = nk >= 0 && d->nodes[nk].kind == N_TEXT && d->nodes[nk].next < 0;
                TRY(quote_close(d, &q, K_KEY, KH_NONE, text_node ? (uint64_t)nk + 1 : 0));
                if (!text_node && d->taping) d->tape[d->ntape - 1].flags |= TF_CONTENT;
                PUTC(b, ':');
                TRY(data_value(d, cn, r.ctx, depth));
            } else if (!positional_done && positional > 0) {
                if (wrote) PUTC(b, ',');
                wrote = 1;
                positional_done = 1;
                PUT_LITKEY(d, "Data", KH_DATA);
                PUTC(b, '{');
                TAP(d, K_OBJ, 0, 0, 0, 0, 0);
                PUT_LITKEY(d, "#text", KH_TEXT);
                if (positional == 1) {
                    TRY(data_value(d, cn, r.ctx, depth));
                } else {
                    PUTC(b, '[');
                    TAP(d, K_ARR, 0, 0, 0, 0, 0);
                    int first = 1;
                    RItem q;
                    for (int32_t m = e->kids; m >= 0; m = d->nodes[m].next) {
                        resolve(d, m, ctx, &q);
                        if (q.kind != R_ELEM || !(d->nflag[d->nodes[q.node].name] & F_DATA)) continue;
                        if (!first) PUTC(b, ',');
                        first = 0;
                        TRY(data_value(d, q.node, q.ctx, depth));
                    }
                    PUTC(b, ']');
                    TAP(d, K_AEND, 0, 0, 0, 0, 0);
                }
                PUTC(b, '}');
                TAP(d, K_END, 0, 0, 0, 0, 0);
            }
            continue;
        }
        /* names compare by their text (two slots may hold the same name): by its first slot */
        int32_t id = d->nid[slot];
        int suffix = -1;
        for (int i = 0; i < nseen; i++) {
            if (seen[i] == id) {
                suffix = seen_count[i]++;
                break;
            }
        }
        if (suffix < 0) {
            if (nseen == MAX_UNIQUE_NAMES) return -1;
            seen[nseen] = id;
            seen_count[nseen++] = 1;
            suffix = 0;
        }
        if (wrote) PUTC(b, ',');
        wrote = 1;
        TRY(put_key(d, slot, suffix));
        TRY(element_value(d, cn, r.ctx, (d->nflag[slot] & F_CONTAINER) != 0, depth + 1));
    }
    PUTC(b, '}');
    TAP(d, K_END, 0, 0, 0, 0, 0);
    return 0;
}

static int element_value(Dec *d, int32_t el, int32_t ctx, int container, int depth) {
    int32_t kids = d->nodes[el].kids;
    const Val *v;
    if (d->nodes[el].attrs < 0 && lone_subst(d, kids, ctx, &v)) {
        if (v) return lone_value(d, v);
        return put_null(d);
    }
    int text = has_text(d, kids, ctx);
    int atext = attrs_have_text(d, el, ctx);
    int elem = has_elem(d, kids, ctx);
    if (!elem && !text && !atext)
        return put_null(d);
    if (!elem && !atext) return content_value(d, kids, ctx, 0);
    return body(d, el, ctx, container, depth);
}

/* One record's binary XML [p, end) -> its JSON in d->out. */
/* One record's binary XML [p, end): its template instance (and nested ones) read into d->ctx
   and d->vals; record_write then writes it. */
static int record_read(Dec *d, uint32_t p, uint32_t end) {
    const uint8_t *c = d->c;
    d->nctx = 0;
    d->nvals = 0;
    if (p + 4 > end || c[p] != 0x0F) return -1;
    p += 4;
    int ci = instance(d, &p, end, 0);
    if (ci < 0 || p >= end || c[p] != 0x00) return -1;
    return 0;
}

static int record_write(Dec *d) {
    d->out.n = 0;
    d->out.high = 0;
    d->out.esc = 0;
    d->out.extra = 0;
    d->ntape = 0;
    d->nvops = 0;
    int ci = 0;
    int32_t root = d->ctx[ci].root;
    Buf *b = &d->out;
    PUTC(b, '{');
    TAP(d, K_OBJ, 0, 0, 0, 0, 0);
    TRY(put_key(d, d->nodes[root].name, 0));
    TRY(element_value(d, root, ci, 0, 0));
    PUTC(b, '}');
    TAP(d, K_END, 0, 0, 0, 0, 0);
    return 0;
}



static PyObject *out_str(const Buf *b) {
    if (!b->high) {
        PyObject *s = PyUnicode_New((Py_ssize_t)b->n, 127);
        if (s) memcpy(PyUnicode_DATA(s), b->p, b->n);
        return s;
    }
    return PyUnicode_DecodeUTF8(b->p, (Py_ssize_t)b->n, "strict");
}

static void keys_release(Dec *d);

static void dec_free(Dec *d) {
    keys_release(d);
    PyMem_Free(d->tape);
    PyMem_Free(d->tobj);
    PyMem_Free(d->kheld);
    PyMem_Free(d->vops);
    PyMem_Free(d->rp_delta);
    PyMem_Free(d->rp_dx);
    PyMem_Free(d->rp_fl);
    PyMem_Free(d->nodes);
    PyMem_Free(d->names.p);
    PyMem_Free(d->ctx);
    PyMem_Free(d->vals);
    PyMem_Free(d->out.p);
}

/* One decoder state kept from chunk to chunk (the GIL guards it): a new one cost a 54 KiB
   zeroed allocation and its buffers' growth every chunk. Only the two hash tables' keys and
   the counts need clearing; every other table is written before it is read. Taken while in
   use (record_fields may run Python code that decodes another chunk), a fresh one is made;
   one whose buffers grew large on an odd chunk is freed rather than kept. */
static Dec *spare_dec;

static Dec *dec_take(void) {
    Dec *d = spare_dec;
    if (d == NULL) return PyMem_Calloc(1, sizeof(Dec));
    spare_dec = NULL;
    memset(d->tkey, 0, sizeof d->tkey);
    memset(d->nkey, 0, sizeof d->nkey);
    d->nn = 0;
    d->nnames = 0;
    d->names.n = 0;
    d->names.high = 0;
    d->nctx = 0;
    d->nvals = 0;
    d->out.n = 0;
    d->out.high = 0;
    d->out.esc = 0;
    d->taping = 0;
    d->ntape = 0;
    return d;
}

static void dec_give(Dec *d) {
    if (spare_dec == NULL && d->ncap <= 8192 && d->names.cap <= (1u << 16) && d->cctx <= 8192
        && d->cvals <= 65536 && d->out.cap <= (1u << 20)) {
        spare_dec = d;
        return;
    }
    dec_free(d);
    PyMem_Free(d);
}

/* ------------------------------------------------------------------------------------------
 * decode_events(ctx, source, chunk): each record as a finished LogEvent, built here exactly as
 * nocsoc.collectors.windows.event.windows_event builds it from _winfast.record_fields(text), or
 * as its JSON text (str) where a step would need Python: record_fields declines, the text is
 * over the size limit, Channel/Computer/SystemTime are not plain strings or the time is not
 * evtx's form, or the (Channel, EventID) route is not in ctx's routes (the caller runs
 * windows_event for it, which counts unknown channels and event IDs, and adds the route).
 *
 * Why: per record, the Python frame of windows_event and LogEvent.__init__ (~1.8 us), the
 * loop around it and its generator (~0.5 us) cost more than the C work. The LogEvent is made
 * without its __init__: allocated by its type and its slots written through the offsets of
 * their member descriptors (event_layout checks the class has exactly the slots below), so the
 * object equals the one __init__ makes (tests/collectors/windows/test_evtxevents.py).
 * ------------------------------------------------------------------------------------------ */
enum { S_RAW, S_FIELDS, S_HOST, S_TIME, S_PRODUCT, S_SERVICES, S_CATEGORIES, S_PARSER, S_SOURCE,
       S_ROUTE_KEY, S_LOW, NSLOTS };
static const char *slot_names[NSLOTS] = {"raw", "fields", "host", "time", "product", "services",
                                         "categories", "parser", "source", "route_key", "_low"};
static PyTypeObject *ev_type;  /* LogEvent, once event_layout has checked it */
static Py_ssize_t ev_off[NSLOTS];
static PyObject *k_eventid, *k_channel, *k_computer, *k_systemtime;
/* _winfast's Fields (the lazy fields record_fields_lazy gives), through its capsule (WfApi,
   _winfast.h); NULL where _winfast is not built (then only dicts are taken) */
static const WfApi *wf;

/* ------------------------------------------------------------------------------------------
 * walk: a record's tape -> its Fields, as _winfast.record_fields_lazy makes them from the text.
 *
 * Why: on the benign day, scanning the text this module has just written cost ~19k
 * instructions a record (strings checked byte by byte, every name hashed and compared, numbers
 * parsed again), a third of the path. The writer knows where each key and value went and what
 * it is: this walks those tokens through the same steps as the scan (parse_event, parse_system,
 * json_system_element, parse_data in _winfast.c, in that order, with the same repeated-key rule)
 * and builds the same entries: string values as spans of the same text, made when read.
 *
 * Where the scan would decline, or anything is unusual (an escape in a name, more keys in an
 * object or nesting than it is sure of, a text that is neither ASCII, Latin-1 nor kept as
 * UTF-8 by the str), walk declines (0) and the caller runs record_fields_lazy on the text: that
 * scan, not this, decides those records. tests/collectors/windows/test_evtxevents.py checks
 * that both give equal fields on every real and mutated record.
 * ------------------------------------------------------------------------------------------ */
#define W_ENTS 256       /* entries: _winfast's LZ_MAX (more, and the scan declines) */
#define W_KEYS 120       /* keys in one object (the scan declines past 128) */
#define W_DEPTH 32       /* nesting of skipped values (the scan declines past 64) */
#define W_DATA_DEPTH 10  /* EventData / UserData levels: the scan's MAX_DATA_DEPTH */
#define W_TMP 32         /* key objects made for one record alone (suffixed or substituted names) */
enum { WK_ERR = -1, WK_DECLINE = 0, WK_OK = 1 };

static PyObject *k_event, *k_system, *k_eventdata, *k_userdata, *k_attributes, *k_text, *k_data;

typedef struct {
    Dec *d;
    const Tok *t;
    int i, n;              /* next token, tokens */
    const uint8_t *out;    /* the UTF-8 text written */
    PyObject *attrs_by_element;
    int latin1;            /* the str is 1-byte Latin-1 (not ASCII): spans move back */
    int nent;
    int lastsrc, content;  /* the token w_scalar read last; a key made of a value's text met */
    int32_t src[W_ENTS];   /* each entry's value token */
    WfEnt ent[W_ENTS];
    Py_hash_t hash[W_ENTS];
    int16_t head[64], next[W_ENTS];
    uint64_t bloom;
    int ntmp;
    PyObject *tmp[W_TMP];
} W;

typedef struct {
    int n;
    uint64_t mask;
    PyObject *keys[W_KEYS];
} WSeen;

/* the str of UTF-8 text [s, s + n) (`high`: not ASCII), interned: every key object walk uses is,
   so two keys are equal exactly when they are the same object */
#define KC 4096        /* key cache slots: names repeat from chunk to chunk */
#define KC_MAXLEN 64
static struct { uint64_t h; PyObject *s; } kc[KC];

static uint64_t key_hash(const uint8_t *s, size_t n) {
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        a = (uint64_t)x | ((uint64_t)y << 32);
    } else {
        for (size_t i = 0; i < n; i++) a = (a << 8) | s[i];
    }
    uint64_t h = (a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL) ^ (uint64_t)n;
    return h ^ (h >> 31);
}

static PyObject *interned(const uint8_t *s, size_t n, int high) {
    size_t slot = 0;
    uint64_t h = 0;
    if (!high && n <= KC_MAXLEN) {  /* (a short ASCII name: the cache, its str interned) */
        h = key_hash(s, n);
        slot = (size_t)(h ^ (h >> 29)) & (KC - 1);
        PyObject *c = kc[slot].s;
        if (c != NULL && kc[slot].h == h && (size_t)PyUnicode_GET_LENGTH(c) == n
            && memcmp(PyUnicode_DATA(c), s, n) == 0)
            return Py_NewRef(c);
    }
    PyObject *u;
    if (!high) {
        u = PyUnicode_New((Py_ssize_t)n, 127);
        if (u) memcpy(PyUnicode_DATA(u), s, n);
    } else {
        u = PyUnicode_DecodeUTF8((const char *)s, (Py_ssize_t)n, "strict");
    }
    if (u == NULL) return NULL;
    PyUnicode_InternInPlace(&u);
    if (!high && n <= KC_MAXLEN) {
        Py_XSETREF(kc[slot].s, Py_NewRef(u));
        kc[slot].h = h;
    }
    return u;
}

static int keys_hold(Dec *d, int32_t what) {
    ENSURE_CAP(d->kheld, d->ckheld, d->nkheld + 1, 256);
    d->kheld[d->nkheld++] = what;
    return 0;
}

/* drop the chunk's key objects (its slots and nodes mean other names in the next chunk) */
static void keys_release(Dec *d) {
    for (int i = 0; i < d->nkheld; i++) {
        int32_t w = d->kheld[i];
        if (w >= 0) Py_CLEAR(d->nobj[w]);
        else Py_CLEAR(d->tobj[-1 - w]);
    }
    d->nkheld = 0;
}

/* The key object of a K_KEY token (borrowed), NULL with an error, or NULL without one: declined
   (an escape in it: the scan declines those names). */
static PyObject *w_key(W *w, const Tok *t) {
    Dec *d = w->d;
    if (t->flags & TF_ESC) return NULL;
    switch (t->key) {
    case KH_ATTRS: return k_attributes;
    case KH_TEXT: return k_text;
    case KH_DATA: return k_data;
    default: break;
    }
    const uint8_t *s = w->out + t->off;
    int high = (t->flags & TF_HIGH) != 0;
    if (t->key >= 0) {  /* a name slot */
        PyObject *k = d->nobj[t->key];
        if (k == NULL) {
            if ((k = interned(s, t->len, high)) == NULL) return NULL;
            if (keys_hold(d, t->key) < 0) { Py_DECREF(k); PyErr_NoMemory(); return NULL; }
            d->nobj[t->key] = k;
        }
        return k;
    }
    if (t->num) {  /* a Data's Name that is a text node of the template */
        int32_t node = (int32_t)(t->num - 1);
        if (node >= d->ctobj) {
            int cap = d->ctobj ? d->ctobj : 1024;
            while (cap <= node) cap *= 2;
            PyObject **o = PyMem_Realloc(d->tobj, (size_t)cap * sizeof(PyObject *));
            if (!o) { PyErr_NoMemory(); return NULL; }
            memset(o + d->ctobj, 0, (size_t)(cap - d->ctobj) * sizeof(PyObject *));
            d->tobj = o;
            d->ctobj = cap;
        }
        PyObject *k = d->tobj[node];
        if (k == NULL) {
            if ((k = interned(s, t->len, high)) == NULL) return NULL;
            if (keys_hold(d, -1 - node) < 0) { Py_DECREF(k); PyErr_NoMemory(); return NULL; }
            d->tobj[node] = k;
        }
        return k;
    }
    if (w->ntmp == W_TMP) return NULL;
    PyObject *k = interned(s, t->len, high);
    if (k) w->tmp[w->ntmp++] = k;
    return k;
}

/* The next token a key: its object (borrowed) in *k, checked not repeated in this object. */
static int w_name(W *w, WSeen *seen, PyObject **k, const Tok **tok) {
    if (w->i >= w->n || w->t[w->i].kind != K_KEY) return WK_DECLINE;
    const Tok *t = &w->t[w->i++];
    if (t->flags & TF_CONTENT) w->content = 1;
    PyObject *key = w_key(w, t);
    if (key == NULL) return PyErr_Occurred() ? WK_ERR : WK_DECLINE;
    uint64_t bit = 1ULL << (((uintptr_t)key >> 4) & 63);
    if (seen->mask & bit)
        for (int j = 0; j < seen->n; j++)
            if (seen->keys[j] == key) return WK_DECLINE;  /* the scan declines a repeated name */
    if (seen->n == W_KEYS) return WK_DECLINE;
    seen->mask |= bit;
    seen->keys[seen->n++] = key;
    *k = key;
    *tok = t;
    return WK_OK;
}

/* A scalar token: *v a new reference, or NULL with *lazy set and the span in *off, *len (a
   string, made when read). WK_DECLINE at an object or array. */
static int w_scalar(W *w, PyObject **v, int *lazy, uint32_t *off, uint32_t *len) {
    *v = NULL;
    *lazy = 0;
    if (w->i >= w->n) return WK_DECLINE;
    const Tok *t = &w->t[w->i];
    w->lastsrc = w->i;
    switch (t->kind) {
    case K_STR: {
        uint32_t o = t->off, n = t->len;
        if (w->latin1) {  /* the str's code units (each 2-byte UTF-8 sequence is one) */
            o = (uint32_t)(t->num >> 32);
            n = (uint32_t)t->num;
        }
        if (n > WF_LEN) return WK_DECLINE;
        *lazy = 1;
        *off = o;
        *len = n | ((t->flags & TF_ESC) ? WF_ESC : 0) | ((t->flags & TF_HIGH) ? 0 : WF_ASCII);
        break;
    }
    case K_NUM:
        if (t->flags & TF_NEG)
            *v = t->num == (uint64_t)INT64_MAX + 1 ? PyLong_FromLongLong(INT64_MIN)
                                                   : PyLong_FromLongLong(-(long long)t->num);
        else
            *v = PyLong_FromUnsignedLongLong(t->num);
        if (*v == NULL) return WK_ERR;
        break;
    case K_TRUE: *v = Py_NewRef(Py_True); break;
    case K_FALSE: *v = Py_NewRef(Py_False); break;
    case K_NULL: *v = Py_NewRef(Py_None); break;
    default: return WK_DECLINE;
    }
    w->i++;
    return WK_OK;
}

/* Past one value (an object or array with all it holds). */
static int w_skip(W *w, int depth) {
    if (w->i >= w->n) return WK_DECLINE;
    const Tok *t = &w->t[w->i++];
    if (t->kind != K_OBJ && t->kind != K_ARR) {
        return t->kind == K_END || t->kind == K_AEND || t->kind == K_KEY ? WK_DECLINE : WK_OK;
    }
    if (depth > W_DEPTH) return WK_DECLINE;
    uint8_t end = t->kind == K_OBJ ? K_END : K_AEND;
    for (;;) {
        if (w->i >= w->n) return WK_DECLINE;
        uint8_t k = w->t[w->i].kind;
        if (k == end) { w->i++; return WK_OK; }
        if (end == K_END) {
            if (k != K_KEY) return WK_DECLINE;
            w->i++;
        }
        int r = w_skip(w, depth + 1);
        if (r != WK_OK) return r;
    }
}

/* out[k] = v (k a new reference; v one, or the span): as _winfast's set_item, a repeated key
   keeps its first place and key object and takes the new value. */
static int w_set(W *w, PyObject *k, PyObject *v, int lazy, uint32_t off, uint32_t len, int src) {
    Py_hash_t h = PyObject_Hash(k);
    if (h == -1) goto err;
    int i = w->nent;
    unsigned b = (unsigned)((uint64_t)h & 63);
    if (w->bloom & (1ULL << b)) {
        for (int c = w->head[b]; c >= 0; c = w->next[c]) {
            PyObject *key = WF_KEY(&w->ent[c]);
            if (key == k) { i = c; break; }
            if (w->hash[c] != h) continue;
            int eq = PyObject_RichCompareBool(key, k, Py_EQ);
            if (eq < 0) goto err;
            if (eq) { i = c; break; }
        }
    }
    WfEnt *e = &w->ent[i];
    if (i < w->nent) {
        Py_DECREF(k);
        if (!(e->k & WF_LAZY)) Py_DECREF(e->u.v);
    } else {
        if (w->nent == W_ENTS) {
            Py_DECREF(k);
            Py_XDECREF(v);
            return WK_DECLINE;
        }
        e->k = (uintptr_t)k;
        w->hash[i] = h;
        if (!(w->bloom & (1ULL << b))) w->head[b] = -1;
        w->next[i] = w->head[b];
        w->head[b] = (int16_t)i;
        w->bloom |= 1ULL << b;
        w->nent++;
    }
    if (lazy) {
        e->k |= WF_LAZY;
        e->u.s.off = off;
        e->u.s.len = len;
    } else {
        e->k &= ~WF_LAZY;
        e->u.v = v;
    }
    w->src[i] = src;
    return WK_OK;
err:
    Py_DECREF(k);
    Py_XDECREF(v);
    return WK_ERR;
}

static int w_expect(W *w, uint8_t kind) {
    if (w->i >= w->n || w->t[w->i].kind != kind) return WK_DECLINE;
    w->i++;
    return WK_OK;
}

#define WTRY(x) do { int r_ = (x); if (r_ != WK_OK) return r_; } while (0)

/* At an object: its '{' read, `seen` cleared for its names. */
static int w_open(W *w, WSeen *seen) {
    seen->n = 0;
    seen->mask = 0;
    return w_expect(w, K_OBJ);
}

/* The object's next name (*k, *kt; checked not repeated), or its end (*k NULL, '}' read). */
static int w_next(W *w, WSeen *seen, PyObject **k, const Tok **kt) {
    if (w->i < w->n && w->t[w->i].kind == K_END) {
        w->i++;
        *k = NULL;
        return WK_OK;
    }
    return w_name(w, seen, k, kt);
}

/* json_system_element: a System child that is an object ({"#attributes": {...}, "#text": v}) */
static int w_system_element(W *w, PyObject *key) {
    PyObject *names = PyDict_GetItemWithError(w->attrs_by_element, key);
    if (names == NULL && PyErr_Occurred()) return WK_ERR;
    PyObject *text = NULL;
    int tlazy = 0, have = 0, tsrc = 0, r = WK_OK;
    uint32_t toff = 0, tlen = 0;
    WSeen seen;
    WTRY(w_open(w, &seen));
    for (;;) {
        PyObject *k;
        const Tok *kt;
        if ((r = w_next(w, &seen, &k, &kt)) != WK_OK) goto fail;
        if (k == NULL) break;
        if (k == k_text) {
            if ((r = w_scalar(w, &text, &tlazy, &toff, &tlen)) != WK_OK) goto fail;
            tsrc = w->lastsrc;
            have = 1;
        } else if (k == k_attributes && names != NULL && PyDict_Check(names)
                   && w->i < w->n && w->t[w->i].kind == K_OBJ) {
            WSeen aseen;
            if ((r = w_open(w, &aseen)) != WK_OK) goto fail;
            for (;;) {
                PyObject *ak;
                const Tok *akt;
                if ((r = w_next(w, &aseen, &ak, &akt)) != WK_OK) goto fail;
                if (ak == NULL) break;
                PyObject *name = PyDict_GetItemWithError(names, ak);
                if (name == NULL) {
                    if (PyErr_Occurred()) { r = WK_ERR; goto fail; }
                    if ((r = w_skip(w, 3)) != WK_OK) goto fail;
                    continue;
                }
                PyObject *av;
                int alazy;
                uint32_t aoff, alen;
                if ((r = w_scalar(w, &av, &alazy, &aoff, &alen)) != WK_OK) goto fail;
                if ((r = w_set(w, Py_NewRef(name), av, alazy, aoff, alen, w->lastsrc)) != WK_OK) goto fail;
            }
        } else {
            if ((r = w_skip(w, 3)) != WK_OK) goto fail;
        }
    }
    if (have) return w_set(w, Py_NewRef(key), text, tlazy, toff, tlen, tsrc);
    return WK_OK;
fail:
    Py_XDECREF(text);
    return r;
}

static int w_system(W *w) {
    WSeen seen;
    WTRY(w_open(w, &seen));
    for (;;) {
        PyObject *k;
        const Tok *kt;
        WTRY(w_next(w, &seen, &k, &kt));
        if (k == NULL) return WK_OK;
        if (w->i >= w->n) return WK_DECLINE;
        uint8_t kind = w->t[w->i].kind;
        if (kind == K_OBJ) {
            WTRY(w_system_element(w, k));
        } else if (kind == K_NULL) {
            w->i++;
        } else {
            PyObject *v;
            int lazy;
            uint32_t off, len;
            WTRY(w_scalar(w, &v, &lazy, &off, &len));
            WTRY(w_set(w, Py_NewRef(k), v, lazy, off, len, w->lastsrc));
        }
    }
}

/* parse_data: EventData / UserData (or an element in them) into the flat fields */
static int w_data(W *w, int depth) {
    if (depth > W_DATA_DEPTH) return WK_DECLINE;
    WSeen seen;
    WTRY(w_open(w, &seen));
    for (;;) {
        PyObject *k;
        const Tok *kt;
        WTRY(w_next(w, &seen, &k, &kt));
        if (k == NULL) return WK_OK;
        const uint8_t *s = w->out + kt->off;
        if (kt->len > 0 && s[0] == '#') {
            if (k != k_attributes) return WK_DECLINE;
            WTRY(w_skip(w, depth + 1));
            continue;
        }
        if (w->i >= w->n) return WK_DECLINE;
        uint8_t kind = w->t[w->i].kind;
        if (kind == K_OBJ) {
            WTRY(w_data(w, depth + 1));
            continue;
        }
        PyObject *v;
        int lazy;
        uint32_t off, len;
        WTRY(w_scalar(w, &v, &lazy, &off, &len));  /* (an array declines) */
        PyObject *key;
        if (memchr(s, ' ', kt->len) == NULL) {
            key = Py_NewRef(k);
        } else {  /* Defender's "Threat Name": SigmaHQ's rules say ThreatName */
            uint8_t stackbuf[256];
            uint8_t *buf = kt->len <= sizeof stackbuf ? stackbuf : PyMem_Malloc(kt->len);
            if (buf == NULL) { Py_XDECREF(v); PyErr_NoMemory(); return WK_ERR; }
            size_t m = 0;
            for (uint32_t i = 0; i < kt->len; i++) if (s[i] != ' ') buf[m++] = s[i];
            key = (kt->flags & TF_HIGH) ? PyUnicode_DecodeUTF8((const char *)buf, (Py_ssize_t)m, "strict")
                                        : PyUnicode_FromStringAndSize((const char *)buf, (Py_ssize_t)m);
            if (buf != stackbuf) PyMem_Free(buf);
            if (key == NULL) { Py_XDECREF(v); return WK_ERR; }
        }
        WTRY(w_set(w, key, v, lazy, off, len, w->lastsrc));
    }
}

/* out.get("EventID") as the scan has it so far: an exact int, or WK_DECLINE */
static int w_eventid_ok(W *w) {
    for (int i = 0; i < w->nent; i++) {
        PyObject *key = WF_KEY(&w->ent[i]);
        if (key == k_eventid || (PyUnicode_CheckExact(key) && PyUnicode_Compare(key, k_eventid) == 0))
            return !(w->ent[i].k & WF_LAZY) && PyLong_CheckExact(w->ent[i].u.v) ? WK_OK : WK_DECLINE;
    }
    return WK_DECLINE;
}

static int w_event(W *w) {
    WSeen seen;
    int system = 0, eventdata = 0, userdata = 0;
    WTRY(w_open(w, &seen));
    for (;;) {
        PyObject *k;
        const Tok *kt;
        WTRY(w_next(w, &seen, &k, &kt));
        if (k == NULL) break;
        if (k == k_system) {
            if (eventdata || userdata) return WK_DECLINE;
            WTRY(w_system(w));
            system = 1;
            WTRY(w_eventid_ok(w));
        } else if (k == k_eventdata || k == k_userdata) {
            int ud = k == k_userdata;
            if (!system || (!ud && userdata)) return WK_DECLINE;
            if (ud) userdata = 1; else eventdata = 1;
            if (w->i < w->n && w->t[w->i].kind == K_NULL) w->i++;
            else WTRY(w_data(w, 2));
        } else {
            WTRY(w_skip(w, 2));
        }
    }
    return system ? WK_OK : WK_DECLINE;
}

static int w_record(W *w) {
    WSeen seen;
    int event = 0;
    WTRY(w_open(w, &seen));
    for (;;) {
        PyObject *k;
        const Tok *kt;
        WTRY(w_next(w, &seen, &k, &kt));
        if (k == NULL) break;
        if (k == k_event) {
            WTRY(w_event(w));
            event = 1;
        } else {
            WTRY(w_skip(w, 1));
        }
    }
    return event && w->i == w->n ? WK_OK : WK_DECLINE;
}

/* The Fields of the record just written (its text `text`, made by out_str from d->out), a new
   reference; NULL without an error where walk declines (the caller scans the text), NULL with
   one on failure. */
static unsigned long long walks, walk_declines, planned, replays;  /* (walk_counts(): tests, benches) */

/* A plan: what walk did for one record of a template, kept for the later records of it (in any
 * chunk: templates are known by their id, see template_gid) whose substitution values have the
 * same types and emptiness (`sig`, one byte a value) and whose nested instances (BinXml values)
 * have the same templates and value counts (`shape`), read with the same attrs_by_element.
 * Why: the writer's output, and so the tape's tokens and everything walk decides (which keys,
 * in which order, which token each value is), depend on the template, those types and
 * emptiness alone, as long as no key is a value's text; only the tokens' spans and numbers
 * differ. So the entries are the plan's keys with the values of the tokens it names, read from
 * this record's tape (a token of another kind: walk runs instead), or, once the plan keeps the
 * text (Compiled), from the replayed text. */
typedef struct Plan {
    int32_t root;
    int ntape, n, nctx;
    uint32_t nsig;
    uint8_t *sig;
    int32_t *shape;    /* each instance's template root and value count, in d->ctx's order */
    PyObject **keys;   /* strong references */
    Py_hash_t *hash;
    int32_t *src;
    uint8_t *kind;     /* the kind of src's token (K_FALSE noted as K_TRUE) */
    void *block;       /* the one allocation holding the arrays */
    struct Compiled *text;  /* a record's text, to replay (NULL: not made) */
    int tried;         /* plan_compile ran (text NULL: it could not) */
    PyObject *attrs;   /* the attrs_by_element walk read (a strong reference) */
    int32_t chain;     /* the next plan of its bucket (-1: none) */
} Plan;

/* How an entry's value is found in a replayed text: K_NULL (None); K_NUM (the number or bool
   of op `op`); K_STR: the span [s, e) of the recorded text, moved by the values written before
   each end (ks, ke: the last op ending at or before it, -1 none), with `extra` xs, xe there in
   the recorded text and what its literal part holds (an escape, a byte >= 0x80). */
typedef struct {
    uint8_t kind, lesc, lhigh;
    int32_t op, ks, ke;
    uint32_t s, e, xs, xe;
} PEnt;

/* A plan's record text as literal bytes between its values: a like record's text is the same
 * bytes with its own values written in their places (the writer's every other byte depends on
 * what plan_find compares alone: see Plan). Replaying it skips the writer's walk of the
 * template tree, and the tape and walk after it. */
typedef struct Compiled {
    int nops;
    VOp *ops;
    uint8_t *lit;
    uint32_t nlit;
    int lit_high;
    PEnt *pe;
} Compiled;
/* The plans, process-wide (a template's id is: see template_gid), found by (root template,
   value count) through buckets; at most GPLANS, kept for the process's life (each holds its
   text and keys: ~3 KB). */
#define GPLANS 2048
#define PBUCKETS 4096
static Plan *g_plans;
static int g_nplans;
static int32_t g_phead[PBUCKETS];

static inline size_t plan_bucket(int32_t gid, uint32_t nv) {
    return ((size_t)(uint32_t)gid * 2654435761u ^ nv * 40503u) & (PBUCKETS - 1);
}

static inline uint8_t val_sig(const Val *v) { return (uint8_t)(v->type | (v->empty ? 0x80 : 0)); }
static inline uint8_t kind_class(uint8_t k) { return k == K_FALSE ? K_TRUE : k; }

/* Every plan and template id dropped, when either table is full, at a chunk's start when no
   other chunk is being decoded (g_active: one decoding inside another's Python call still holds
   its templates' ids): a long run meeting ever new shapes keeps making plans for the current
   ones. */
static int g_active;
static void plans_flush(void) {
    for (int i = 0; i < g_nplans; i++) {
        Plan *p = &g_plans[i];
        for (int j = 0; j < p->n; j++) Py_DECREF(p->keys[j]);
        Py_DECREF(p->attrs);
        PyMem_Free(p->block);
        PyMem_Free(p->text);  /* (one block) */
    }
    g_nplans = 0;
    for (int b = 0; b < PBUCKETS; b++) g_phead[b] = -1;
    for (int t = 0; t < GT; t++) {
        PyMem_Free(g_tmpl[t].ser);
        g_tmpl[t].ser = NULL;
    }
    g_ntmpl = 0;
}

/* the template id of instance c of the record just read (-1: none) */
static inline int32_t ctx_gid(const Dec *d, int c) { return d->nodes[d->ctx[c].root].gid; }

/* the plan for the record just read (its instances and values in d->ctx, d->vals), or NULL */
static Plan *plan_find(Dec *d, PyObject *attrs) {
    int32_t gid = ctx_gid(d, 0);
    uint32_t nv = (uint32_t)d->nvals;
    if (gid < 0) return NULL;
    for (int32_t i = g_nplans ? g_phead[plan_bucket(gid, nv)] : -1; i >= 0; i = g_plans[i].chain) {
        Plan *p = &g_plans[i];
        if (p->root != gid || p->nsig != nv || p->nctx != d->nctx || p->attrs != attrs) continue;
        int c = 1;
        while (c < d->nctx && p->shape[2 * c] == ctx_gid(d, c) && p->shape[2 * c + 1] == (int32_t)d->ctx[c].count)
            c++;
        if (c < d->nctx) continue;
        uint32_t k = 0;
        while (k < nv && val_sig(&d->vals[k]) == p->sig[k]) k++;
        if (k == nv) return p;
    }
    return NULL;
}

/* keep walk's result `w` for the template of the record just written (no error if it cannot) */
static void plan_compile(Dec *d, Plan *p);

static void plan_save(Dec *d, const W *w) {
    if (w->content || g_nplans == GPLANS || d->ctx[0].vals != 0 || ctx_gid(d, 0) < 0) return;
    for (int c = 1; c < d->nctx; c++)
        if (ctx_gid(d, c) < 0) return;
    if (g_plans == NULL) {
        if ((g_plans = PyMem_Malloc(GPLANS * sizeof(Plan))) == NULL) return;
        for (int b = 0; b < PBUCKETS; b++) g_phead[b] = -1;
    }
    const Ctx *x = &d->ctx[0];
    int n = w->nent;
    size_t nv = (size_t)d->nvals;
    size_t size = (size_t)n * (sizeof(PyObject *) + sizeof(Py_hash_t) + sizeof(int32_t) + 1)
                  + 2 * sizeof(int32_t) * (size_t)d->nctx + nv;
    uint8_t *block = PyMem_Malloc(size);
    if (block == NULL) return;
    Plan *p = &g_plans[g_nplans];
    p->root = ctx_gid(d, 0);
    (void)x;
    p->ntape = d->ntape;
    p->n = n;
    p->nctx = d->nctx;
    p->nsig = (uint32_t)nv;
    /* (pointers first, then the 8-, 4- and 1-byte arrays: each aligned) */
    p->keys = (PyObject **)(void *)block;
    p->hash = (Py_hash_t *)(void *)(block + (size_t)n * sizeof(PyObject *));
    p->src = (int32_t *)(void *)(block + (size_t)n * (sizeof(PyObject *) + sizeof(Py_hash_t)));
    p->shape = p->src + n;
    p->kind = (uint8_t *)(p->shape + 2 * d->nctx);
    p->sig = p->kind + n;
    p->block = block;
    p->text = NULL;
    p->tried = 0;
    p->attrs = Py_NewRef(w->attrs_by_element);
    size_t bucket = plan_bucket(p->root, p->nsig);
    p->chain = g_phead[bucket];
    g_phead[bucket] = (int32_t)g_nplans++;
    for (int c = 0; c < d->nctx; c++) {
        p->shape[2 * c] = ctx_gid(d, c);
        p->shape[2 * c + 1] = (int32_t)d->ctx[c].count;
    }
    for (int j = 0; j < n; j++) {
        p->keys[j] = Py_NewRef(WF_KEY(&w->ent[j]));
        p->hash[j] = w->hash[j];
        p->src[j] = w->src[j];
        p->kind[j] = kind_class(d->tape[w->src[j]].kind);
    }
    for (size_t k = 0; k < nv; k++) p->sig[k] = val_sig(&d->vals[k]);
    if (d->recording) plan_compile(d, p);
}

/* bytes of o[a, b) that are >= 0x80 (any_high) or UTF-8 continuation bytes (count_cont),
   eight at a time */
static int any_high(const uint8_t *o, uint32_t a, uint32_t b) {
    uint64_t acc = 0, w;
    for (; a + 8 <= b; a += 8) {
        memcpy(&w, o + a, 8);
        acc |= w;
    }
    for (; a < b; a++) acc |= o[a];
    return (acc & 0x8080808080808080ull) != 0;
}

static uint32_t count_cont(const uint8_t *o, uint32_t a, uint32_t b) {
    uint32_t n = 0;
    uint64_t w;
    for (; a + 8 <= b; a += 8) {
        memcpy(&w, o + a, 8);
        n += (uint32_t)__builtin_popcountll(w & ~(w << 1) & 0x8080808080808080ull);  /* 10xxxxxx */
    }
    for (; a < b; a++) n += (o[a] & 0xC0) == 0x80;
    return n;
}


/* the plan's Compiled from the record just written (recorded), if every entry's value is found
   as PEnt says (no error if not: the plan then works from the tape) */
static void plan_compile(Dec *d, Plan *p) {
    p->tried = 1;
    int nops = d->nvops, n = p->n;
    size_t nlit = d->out.n;
    size_t size = sizeof(Compiled) + (size_t)nops * sizeof(VOp) + (size_t)n * sizeof(PEnt) + nlit;
    uint8_t *block = PyMem_Malloc(size);
    if (block == NULL) return;
    Compiled *t = (Compiled *)(void *)block;
    t->nops = nops;
    t->ops = (VOp *)(void *)(block + sizeof(Compiled));
    t->pe = (PEnt *)(void *)(block + sizeof(Compiled) + (size_t)nops * sizeof(VOp));
    t->lit = block + sizeof(Compiled) + (size_t)nops * sizeof(VOp) + (size_t)n * sizeof(PEnt);
    t->nlit = (uint32_t)nlit;
    memcpy(t->ops, d->vops, (size_t)nops * sizeof(VOp));
    memcpy(t->lit, d->out.p, nlit);
    const uint8_t *o = t->lit;
    /* the literal parts: a byte >= 0x80 in them */
    int high = d->out.high;  /* (else no byte >= 0x80 anywhere: nothing to count) */
    t->lit_high = 0;
    uint32_t at = 0;
    for (int k = 0; k <= nops; k++) {
        uint32_t stop = k < nops ? t->ops[k].start : (uint32_t)nlit;
        if (stop < at) goto fail;  /* (ops in order, none inside another) */
        if (high && at < stop) t->lit_high |= any_high(o, at, stop);
        if (k < nops) at = t->ops[k].end;
    }
    for (int j = 0; j < n; j++) {
        const Tok *tk = &d->tape[p->src[j]];
        PEnt *q = &t->pe[j];
        memset(q, 0, sizeof *q);
        q->kind = tk->kind == K_FALSE ? K_TRUE : tk->kind;
        q->op = q->ks = q->ke = -1;
        if (q->kind == K_NULL) continue;
        if (q->kind == K_NUM || q->kind == K_TRUE) {
            q->op = tk->vop;
            if (q->op < 0 || q->op >= nops || t->ops[q->op].start != tk->off || !t->ops[q->op].num) goto fail;
            q->kind = K_NUM;
            continue;
        }
        if (q->kind != K_STR) goto fail;
        q->s = tk->off;
        q->e = tk->off + tk->len;
        q->ks = tk->vop;
        q->ke = tk->vop_end;
        if (q->ks >= nops || q->ke >= nops || q->ks > q->ke || (q->ks >= 0 && t->ops[q->ks].end > q->s)
            || (q->ke >= 0 && t->ops[q->ke].end > q->e) || (q->ke + 1 < nops && t->ops[q->ke + 1].start < q->e))
            goto fail;
        /* `extra` at s and e in the recorded text; the literal bytes of the span */
        uint32_t from = q->ks >= 0 ? t->ops[q->ks].end : 0, x = q->ks >= 0 ? t->ops[q->ks].extra1 : 0;
        if (high && from < q->s) x += count_cont(o, from, q->s);
        q->xs = x;
        from = q->ke >= 0 ? t->ops[q->ke].end : 0;
        x = q->ke >= 0 ? t->ops[q->ke].extra1 : 0;
        if (high && from < q->e) x += count_cont(o, from, q->e);
        q->xe = x;
        uint32_t i = q->s;
        for (int k = q->ks + 1; k <= q->ke + 1 && i < q->e; k++) {
            uint32_t stop = k <= q->ke ? t->ops[k].start : q->e;
            for (; i < stop; i++) {
                q->lhigh |= o[i] >= 0x80;
                q->lesc |= o[i] == '\\';
            }
            if (k <= q->ke) i = t->ops[k].end;
        }
    }
    p->text = t;
    return;
fail:
    PyMem_Free(block);
}

/* The record's text from its plan's Compiled, with its own values (d->vals) in their places:
   0, or -1 (a value this does not write: the chunk is declined, as the writer would). */
static int plan_replay(Dec *d, const Compiled *t) {
    if (t->nops > d->rp_cap) {
        int cap = t->nops * 2;
        int64_t *a = PyMem_Realloc(d->rp_delta, (size_t)cap * sizeof(int64_t));
        if (a) d->rp_delta = a;
        int64_t *x = PyMem_Realloc(d->rp_dx, (size_t)cap * sizeof(int64_t));
        if (x) d->rp_dx = x;
        uint8_t *f = PyMem_Realloc(d->rp_fl, (size_t)cap);
        if (f) d->rp_fl = f;
        if (!a || !x || !f) return -1;
        d->rp_cap = cap;
    }
    Buf *b = &d->out;
    b->n = 0;
    b->extra = 0;
    int taping = d->taping, high = t->lit_high;
    d->taping = 0;
    uint32_t pos = 0, rx = 0;
    for (int k = 0; k < t->nops; k++) {
        const VOp *op = &t->ops[k];
        PUT(b, t->lit + pos, op->start - pos);
        b->extra += op->extra0 - rx;
        b->high = b->esc = 0;
        const Val *v = &d->vals[op->vidx];
        if ((op->num ? value_number_raw(d, v) : value_text_raw(d, v)) < 0) { d->taping = taping; return -1; }
        d->rp_fl[k] = (uint8_t)((b->high ? TF_HIGH : 0) | (b->esc ? TF_ESC : 0));
        high |= b->high;
        d->rp_delta[k] = (int64_t)b->n - (int64_t)op->end;
        d->rp_dx[k] = (int64_t)b->extra - (int64_t)op->extra1;
        pos = op->end;
        rx = op->extra1;
    }
    d->taping = taping;
    PUT(b, t->lit + pos, t->nlit - pos);
    b->high = high;
    return 0;
}

/* drop the entries made so far */
static void w_undo(W *w) {
    for (int i = 0; i < w->nent; i++) {
        Py_DECREF(WF_KEY(&w->ent[i]));
        if (!(w->ent[i].k & WF_LAZY)) Py_DECREF(w->ent[i].u.v);
    }
    w->nent = 0;
}

/* The plan's entries, with this record's values: WK_OK, WK_DECLINE (a token of another kind:
   nothing kept), WK_ERR. */
static int plan_apply(W *w, const Plan *p) {
    for (int j = 0; j < p->n; j++) {
        const Tok *t = &w->t[p->src[j]];
        if (kind_class(t->kind) != p->kind[j]) goto undo;
        WfEnt *e = &w->ent[j];
        w->i = p->src[j];
        PyObject *v;
        int lazy;
        uint32_t off, len;
        int r = w_scalar(w, &v, &lazy, &off, &len);
        if (r != WK_OK) {
            w->nent = j;
            return r == WK_ERR ? WK_ERR : (w_undo(w), WK_DECLINE);
        }
        e->k = (uintptr_t)Py_NewRef(p->keys[j]);
        w->hash[j] = p->hash[j];
        if (lazy) {
            e->k |= WF_LAZY;
            e->u.s.off = off;
            e->u.s.len = len;
        } else {
            e->u.v = v;
        }
        w->nent = j + 1;
    }
    w->i = w->n;
    return WK_OK;
undo:
    w_undo(w);
    return WK_DECLINE;
}

/* The entries of a replayed record (plan_replay just wrote its text) into w: WK_OK or WK_ERR;
   WK_DECLINE where a span is too long for a Fields (the scan then decides). */
static int plan_entries(W *w, const Plan *p, const Compiled *t) {
    Dec *d = w->d;
    for (int j = 0; j < p->n; j++) {
        const PEnt *q = &t->pe[j];
        WfEnt *e = &w->ent[j];
        PyObject *v = NULL;
        if (q->kind == K_NULL) {
            v = Py_NewRef(Py_None);
        } else if (q->kind == K_NUM) {
            const Val *val = &d->vals[t->ops[q->op].vidx];
            if (val->type == 0x0D) {
                v = Py_NewRef(u32(d->c + val->off) ? Py_True : Py_False);
            } else {
                int neg;
                uint64_t m = number_of(d, val, &neg);
                v = !neg ? PyLong_FromUnsignedLongLong(m)
                    : m == (uint64_t)INT64_MAX + 1 ? PyLong_FromLongLong(INT64_MIN)
                    : PyLong_FromLongLong(-(long long)m);
                if (v == NULL) return WK_ERR;
            }
        } else {
            int64_t ds = q->ks >= 0 ? d->rp_delta[q->ks] : 0, de = q->ke >= 0 ? d->rp_delta[q->ke] : 0;
            int64_t start = (int64_t)q->s + ds, end = (int64_t)q->e + de;
            uint8_t fl = (uint8_t)((q->lesc ? TF_ESC : 0) | (q->lhigh ? TF_HIGH : 0));
            for (int k = q->ks + 1; k <= q->ke; k++) fl |= d->rp_fl[k];
            if (w->latin1) {
                start -= (int64_t)q->xs + (q->ks >= 0 ? d->rp_dx[q->ks] : 0);
                end -= (int64_t)q->xe + (q->ke >= 0 ? d->rp_dx[q->ke] : 0);
            }
            if (end - start > (int64_t)WF_LEN) return WK_DECLINE;
            e->k = (uintptr_t)Py_NewRef(p->keys[j]) | WF_LAZY;
            e->u.s.off = (uint32_t)start;
            e->u.s.len = (uint32_t)(end - start) | ((fl & TF_ESC) ? WF_ESC : 0) | ((fl & TF_HIGH) ? 0 : WF_ASCII);
            w->hash[j] = p->hash[j];
            w->nent = j + 1;
            continue;
        }
        e->k = (uintptr_t)Py_NewRef(p->keys[j]);
        e->u.v = v;
        w->hash[j] = p->hash[j];
        w->nent = j + 1;
    }
    return WK_OK;
}

/* `pl`: the plan plan_find gave for the record (before it was written), or NULL; `replayed`:
   its text was replayed (plan_replay), not written with a tape. */
static PyObject *walk(Dec *d, PyObject *text, PyObject *attrs_by_element, Plan *pl, int replayed) {
    static W w;  /* (the GIL guards it; 6 KB kept off the stack) */
    static int busy;
    if (busy || wf == NULL || wf->fields_new == NULL) return NULL;
    const unsigned char *base;
    w.latin1 = 0;
    if (!d->out.high) {
        base = PyUnicode_DATA(text);
    } else if (PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND) {
        base = PyUnicode_1BYTE_DATA(text);
        w.latin1 = 1;
    } else {  /* as the scan reads it: the UTF-8 the str keeps, the bytes written here */
        Py_ssize_t size;
        if ((base = (const unsigned char *)PyUnicode_AsUTF8AndSize(text, &size)) == NULL) return NULL;
        if ((size_t)size != d->out.n) return NULL;
    }
    busy = 1;
    w.d = d;
    w.t = d->tape;
    w.i = 0;
    w.n = d->ntape;
    w.out = (const uint8_t *)d->out.p;
    w.attrs_by_element = attrs_by_element;
    w.nent = 0;
    w.bloom = 0;
    w.ntmp = 0;
    w.content = 0;
    PyObject *result = NULL;
    int r = WK_DECLINE;
    Plan *p = pl;
    walks++;
    if (replayed) {
        r = plan_entries(&w, p, p->text);
        if (r == WK_OK) planned++, replays++;
        if (r == WK_DECLINE) walk_declines++;
        goto made;
    }
    if (p != NULL && p->ntape == d->ntape) {
        r = plan_apply(&w, p);
        if (r == WK_OK) planned++;
    }
    if (r != WK_OK) {
        if (r == WK_ERR) goto out;
        w.i = 0;
        r = w_record(&w);
        if (r == WK_DECLINE) walk_declines++;
        if (r == WK_OK && p == NULL) plan_save(d, &w);
    }
made:
    if (r == WK_OK) {
        result = wf->fields_new(text, base, w.latin1, w.ent, w.nent, w.hash);
        if (result != NULL) w.nent = 0;  /* the entries' references are the Fields' now */
    }
out:
    for (int i = 0; i < w.nent; i++) {
        Py_DECREF(WF_KEY(&w.ent[i]));
        if (!(w.ent[i].k & WF_LAZY)) Py_DECREF(w.ent[i].u.v);
    }
    for (int i = 0; i < w.ntmp; i++) Py_DECREF(w.tmp[i]);
    busy = 0;
    return result;
}

/* event_layout(LogEvent): record its slots' offsets (TypeError if its layout is not the one
   this writes: then the caller keeps the Python path). */
static PyObject *event_layout(PyObject *self, PyObject *arg) {
    if (!PyType_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "event_layout(LogEvent)");
        return NULL;
    }
    PyTypeObject *t = (PyTypeObject *)arg;
    Py_ssize_t off[NSLOTS];
    for (int i = 0; i < NSLOTS; i++) {
        PyObject *d = PyDict_GetItemString(t->tp_dict, slot_names[i]);  /* borrowed */
        if (d == NULL || !PyObject_TypeCheck(d, &PyMemberDescr_Type)
            || ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX
            || (((PyMemberDescrObject *)d)->d_member->flags & READONLY)) {
            PyErr_Format(PyExc_TypeError, "event_layout: %s is not a writable slot", slot_names[i]);
            return NULL;
        }
        off[i] = ((PyMemberDescrObject *)d)->d_member->offset;
        if (off[i] < (Py_ssize_t)sizeof(PyObject) || off[i] + (Py_ssize_t)sizeof(PyObject *) > t->tp_basicsize) {
            PyErr_Format(PyExc_TypeError, "event_layout: %s has an odd offset", slot_names[i]);
            return NULL;
        }
    }
    if (t->tp_dictoffset != 0 || t->tp_alloc == NULL) {
        PyErr_SetString(PyExc_TypeError, "event_layout: instances must have slots only");
        return NULL;
    }
    struct { PyObject **slot; const char *text; } names[] = {
        {&k_eventid, "EventID"}, {&k_channel, "Channel"}, {&k_computer, "Computer"},
        {&k_systemtime, "SystemTime"}, {&k_event, "Event"}, {&k_system, "System"},
        {&k_eventdata, "EventData"}, {&k_userdata, "UserData"}, {&k_attributes, "#attributes"},
        {&k_text, "#text"}, {&k_data, "Data"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (*names[i].slot == NULL && (*names[i].slot = PyUnicode_InternFromString(names[i].text)) == NULL)
            return NULL;
    if (wf == NULL) {
        wf = PyCapsule_Import("nocsoc.collectors.windows._winfast._API", 0);
        if (wf == NULL) PyErr_Clear();
    }
    memcpy(ev_off, off, sizeof off);
    Py_INCREF(arg);
    Py_XSETREF(ev_type, t);
    Py_RETURN_NONE;
}

#define SLOT(o, i) (*(PyObject **)((char *)(o) + ev_off[i]))

/* fields.get(key), borrowed: a dict's or a Fields' (its value made now if lazy); NULL without
   an error when absent */
static inline PyObject *fget(PyObject *fields, int lazy, PyObject *key) {
    return lazy ? wf->get(fields, key) : PyDict_GetItemWithError(fields, key);
}

/* ctx: (record_fields, epoch, routes, product, parser, max_chars[, (record_fields, attrs_by_element)]) with
   record_fields(text) -> dict | Fields | None, epoch(text) -> float | None, routes: {channel: {EventID:
   (services, categories, aliases, route_key)}}. The event, or NULL with *slow = 1 (no error
   set) when Python must finish this record, or NULL with an error. */
static PyObject *make_event(PyObject *raw, PyObject *const *ctx, PyObject *source, int *slow,
                            PyObject *fields) {
    *slow = 1;
    if (fields == NULL) {  /* (else walk's, a new reference, for a text within the limit) */
        if (PyUnicode_GET_LENGTH(raw) > PyLong_AsSsize_t(ctx[5])) return NULL;
        fields = PyObject_Vectorcall(ctx[0], &raw, 1, NULL);
        if (fields == NULL) { *slow = 0; return NULL; }
    }
    int lazy = wf != NULL && Py_IS_TYPE(fields, wf->type);
    if (!lazy && !PyDict_CheckExact(fields)) { Py_DECREF(fields); return NULL; }
    PyObject *ev = NULL, *when = NULL;
    PyObject *eid = fget(fields, lazy, k_eventid);
    PyObject *channel = eid ? fget(fields, lazy, k_channel) : NULL;
    PyObject *host = channel ? fget(fields, lazy, k_computer) : NULL;
    if (PyErr_Occurred()) { *slow = 0; goto out; }
    /* windows_event: str(fields.get("Channel") or ""), str(fields.get("Computer") or "") */
    if (eid == NULL || !PyLong_CheckExact(eid) || channel == NULL || !PyUnicode_CheckExact(channel)
        || PyUnicode_GET_LENGTH(channel) == 0) goto out;
    if (host == NULL || host == Py_None) host = PyUnicode_New(0, 0);  /* the empty str */
    else if (PyUnicode_CheckExact(host)) Py_INCREF(host);
    else goto out;
    PyObject *by_eid = PyDict_GetItemWithError(ctx[2], channel);
    PyObject *route = by_eid && PyDict_CheckExact(by_eid) ? PyDict_GetItemWithError(by_eid, eid) : NULL;
    if (route == NULL || !PyTuple_CheckExact(route) || PyTuple_GET_SIZE(route) != 4
        || !PyTuple_CheckExact(PyTuple_GET_ITEM(route, 2))) {
        Py_DECREF(host);
        if (PyErr_Occurred()) *slow = 0;
        goto out;
    }
    PyObject *aliases = PyTuple_GET_ITEM(route, 2);
    if (lazy && PyTuple_GET_SIZE(aliases) > 0) {
        /* a route with aliases adds fields: its events get the real dict (the same values:
           eid and channel, borrowed, stay alive in it) */
        PyObject *d = wf->dict(fields);
        if (d == NULL) { Py_DECREF(host); *slow = 0; goto out; }
        Py_INCREF(d);
        Py_SETREF(fields, d);
        lazy = 0;
    }
    /* system_time: 0.0 without a (non-empty) str SystemTime; epoch's float, else Python's */
    PyObject *st = fget(fields, lazy, k_systemtime);
    if (st == NULL && PyErr_Occurred()) { Py_DECREF(host); *slow = 0; goto out; }
    if (st == NULL || !PyUnicode_Check(st) || PyUnicode_GET_LENGTH(st) == 0) {
        when = PyFloat_FromDouble(0.0);
    } else {
        when = PyObject_Vectorcall(ctx[1], &st, 1, NULL);
        if (when == Py_None) { Py_CLEAR(when); Py_DECREF(host); goto out; }
    }
    if (when == NULL) { Py_DECREF(host); *slow = 0; goto out; }
    /* the route's field aliases: rule name -> event name, where the rule's name is absent */
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(aliases); i++) {
        PyObject *pair = PyTuple_GET_ITEM(aliases, i);
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "decode_events: a route's alias is not a pair");
            goto fail;
        }
        PyObject *rule_name = PyTuple_GET_ITEM(pair, 0);
        int has = PyDict_Contains(fields, rule_name);
        if (has < 0) goto fail;
        if (has) continue;
        PyObject *v = PyDict_GetItemWithError(fields, PyTuple_GET_ITEM(pair, 1));
        if (v == NULL && PyErr_Occurred()) goto fail;
        if (v != NULL && v != Py_None && PyDict_SetItem(fields, rule_name, v) < 0) goto fail;
    }
    ev = ev_type->tp_alloc(ev_type, 0);
    if (ev == NULL) goto fail;
    SLOT(ev, S_RAW) = Py_NewRef(raw);
    SLOT(ev, S_FIELDS) = Py_NewRef(fields);
    SLOT(ev, S_HOST) = host;
    SLOT(ev, S_TIME) = when;
    SLOT(ev, S_PRODUCT) = Py_NewRef(ctx[3]);
    SLOT(ev, S_SERVICES) = Py_NewRef(PyTuple_GET_ITEM(route, 0));
    SLOT(ev, S_CATEGORIES) = Py_NewRef(PyTuple_GET_ITEM(route, 1));
    SLOT(ev, S_PARSER) = Py_NewRef(ctx[4]);
    SLOT(ev, S_SOURCE) = Py_NewRef(source);
    SLOT(ev, S_ROUTE_KEY) = Py_NewRef(PyTuple_GET_ITEM(route, 3));
    SLOT(ev, S_LOW) = Py_NewRef(Py_None);
    /* Not tracked by the cyclic GC: what an event holds (strs, numbers, tuples of strs, the
       fields dict of those, the lowercase cache dict of strs) can never lead back to it, so it
       can never sit in a cycle, the reasoning by which CPython untracks such tuples and dicts
       itself. Tracked, every event held (a hunting run keeps a file's events; a bus batch, a
       correlation window) was scanned again by each young collection, and on the benign day
       that cost ~1.5 us an event (bench's read-all, A/B). References from an untracked object
       count as external ones: the collector stays correct for all else, and an event that
       someone did put into a cycle would only be kept, never freed early. */
    PyObject_GC_UnTrack(ev);
    *slow = 0;
    goto out;
fail:
    Py_DECREF(host);
    Py_DECREF(when);
    *slow = 0;
out:
    Py_DECREF(fields);
    return ev;
}

/* decode_chunk(chunk) -> list[str] | None; decode_events(ctx, source, chunk) -> (list, slow) |
   None, `slow` counting the list's str items (records Python finishes). */
static PyObject *chunk_records(PyObject *arg, PyObject *const *ctx, Py_ssize_t nctx, PyObject *source) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    PyObject *result = NULL;
    Py_ssize_t nslow = 0;
    if (view.len != (Py_ssize_t)CHUNK) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "decode_chunk: a chunk is 65536 bytes");
        return NULL;
    }
    const uint8_t *c = view.buf;
    Dec *d = dec_take();
    if (!d) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    d->c = c;
    /* ctx's 7th item, (maker, attrs_by_element): `maker` is record_fields_lazy with those
       attribute names; while it is ctx's record_fields, walk may make its Fields from the tape */
    PyObject *direct = NULL;
    if (ctx != NULL && nctx == 7 && wf != NULL && PyTuple_CheckExact(ctx[6]) && PyTuple_GET_SIZE(ctx[6]) == 2
        && PyTuple_GET_ITEM(ctx[6], 0) == ctx[0] && PyDict_CheckExact(PyTuple_GET_ITEM(ctx[6], 1)))
        direct = PyTuple_GET_ITEM(ctx[6], 1);
    Py_ssize_t max_chars = ctx != NULL ? PyLong_AsSsize_t(ctx[5]) : 0;
    if (max_chars == -1 && PyErr_Occurred()) goto done_early;
    d->taping = direct != NULL;
    if (direct != NULL && g_active == 0 && (g_nplans >= GPLANS || g_ntmpl >= GT / 2)) plans_flush();
    g_active++;
    PyObject *list = PyList_New(0);
    if (!list) goto done;
    if (memcmp(c, "ElfChnk\0", 8) != 0) goto decline;
    uint64_t last_id = u64(c + 32);
    uint32_t free_off = u32(c + 48);
    if (u32(c + 40) != 128 || free_off > CHUNK) goto decline;
    if (tables_ok(d) < 0) goto decline;
    uint32_t p = CHUNK_HEADER;
    while (p < free_off) {
        if (p + 28 > free_off || u32(c + p) != 0x00002a2a) goto decline;
        uint32_t size = u32(c + p + 4);
        if (size < 28 || size > free_off - p || u32(c + p + size - 4) != size) goto decline;
        uint64_t id = u64(c + p + 8);
        /* evtx converts the record's FILETIME: keep to the years it can write (to 9999) */
        if (u64(c + p + 16) / 10000000u > 11644473600u + 253402300799u) goto decline;
        if (record_read(d, p + 24, p + size - 4) < 0) goto decline;
        /* with the direct fields: a record like one met before in this chunk has that one's
           text replayed with its own values; the others are written with a tape (and their
           values noted, when no plan is known: the plan then keeps the text) */
        Plan *pl = direct != NULL ? plan_find(d, direct) : NULL;
        int replayed = pl != NULL && pl->text != NULL;
        d->recording = direct != NULL && pl == NULL;
        if ((replayed ? plan_replay(d, pl->text) : record_write(d)) < 0) goto decline;
        PyObject *s = out_str(&d->out);
        if (!s) goto fail;
        if (ctx != NULL) {
            int slow;
            PyObject *fields = NULL;
            if (direct != NULL && PyUnicode_GET_LENGTH(s) <= max_chars) {
                fields = walk(d, s, direct, pl, replayed);
                if (fields == NULL && PyErr_Occurred()) { Py_DECREF(s); goto fail; }
            }
            PyObject *ev = make_event(s, ctx, source, &slow, fields);
            if (ev != NULL) {
                Py_SETREF(s, ev);
            } else if (!slow) {
                Py_DECREF(s);
                goto fail;
            } else {
                nslow++;
            }
        }
        int rc = PyList_Append(list, s);
        Py_DECREF(s);
        if (rc < 0) goto fail;
        p += size;
        if (id == last_id) break;
    }
    if (ctx == NULL) {
        result = list;
    } else {
        result = Py_BuildValue("(Nn)", list, nslow);
    }
    goto done;
decline:
    Py_DECREF(list);
    result = Py_NewRef(Py_None);
    goto done;
fail:
    Py_DECREF(list);
done:
    keys_release(d);
    g_active--;
done_early:
    dec_give(d);
    PyBuffer_Release(&view);
    return result;
}

static PyObject *decode_chunk(PyObject *self, PyObject *arg) {
    return chunk_records(arg, NULL, 0, NULL);
}

static PyObject *decode_events(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    /* (ctx, source, chunk): the per-file arguments first, so functools.partial binds them */
    if (nargs != 3 || !PyTuple_CheckExact(args[0])
        || (PyTuple_GET_SIZE(args[0]) != 6 && PyTuple_GET_SIZE(args[0]) != 7)
        || !PyUnicode_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "decode_events(ctx: tuple of 6 or 7, source: str, chunk)");
        return NULL;
    }
    PyObject *const *ctx = &PyTuple_GET_ITEM(args[0], 0);
    if (ev_type == NULL || !PyDict_CheckExact(ctx[2]) || !PyLong_CheckExact(ctx[5])) {
        PyErr_SetString(PyExc_TypeError, "decode_events: event_layout first; routes a dict, max_chars an int");
        return NULL;
    }
    return chunk_records(args[2], ctx, PyTuple_GET_SIZE(args[0]), args[1]);
}

static PyObject *walk_counts(PyObject *self, PyObject *unused) {
    return Py_BuildValue("(KKKK)", walks, walk_declines, planned, replays);
}

static PyObject *forget_plans(PyObject *self, PyObject *unused) {
    if (g_active == 0) plans_flush();
    return Py_BuildValue("(ii)", g_nplans, g_ntmpl);
}

static PyMethodDef methods[] = {
    {"forget_plans", forget_plans, METH_NOARGS,
     "forget_plans() -> (plans, templates) left: drop every plan and template id (as when their "
     "tables fill up), unless a chunk is being decoded (tests)."},
    {"walk_counts", walk_counts, METH_NOARGS,
     "walk_counts() -> (records walked, of which declined, by a plan, of those replayed): "
     "decode_events' fields made from the tape, left to the scan of the text, made by a "
     "template's plan, with the text replayed from it (tests, benches)."},
    {"decode_chunk", decode_chunk, METH_O,
     "decode_chunk(chunk) -> list[str] | None: each record's JSON text as evtx's records_json "
     "writes it, or None when the chunk holds anything this does not read exactly as evtx "
     "(the caller then hands the chunk to evtx). The caller checks the chunk's CRC32s."},
    {"decode_events", (PyCFunction)(void (*)(void))decode_events, METH_FASTCALL,
     "decode_events(ctx, source, chunk) -> (list[LogEvent | str], slow) | None: decode_chunk's "
     "records as finished events, or as texts (`slow` of them) where Python finishes them."},
    {"event_layout", event_layout, METH_O,
     "event_layout(LogEvent): check the event class's slots and remember their offsets."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_evtxfast", "EVTX chunk decoding in C.", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__evtxfast(void) { return PyModule_Create(&module); }
