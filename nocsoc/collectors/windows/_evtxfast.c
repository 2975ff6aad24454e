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
 * the record's fields from that, not from a second scan of the text (see Tok; _evtxwalk.c
 * walks it); a record shaped as one met before (in any chunk: template ids) gets that one's
 * text with its own values in their places, and its fields from that one's walk (Plan,
 * Compiled: _evtxwalk.c).
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
#include "_evtxfast.h"
#include <structmember.h>

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

/* Every plan and template id dropped, when either table is full, at a chunk's start when no
   other chunk is being decoded (g_active: one decoding inside another's Python call still holds
   its templates' ids): a long run meeting ever new shapes keeps making plans for the current
   ones. */
static int g_active;
static void forget_shapes(void) {
    plans_forget();
    for (int t = 0; t < GT; t++) {
        PyMem_Free(g_tmpl[t].ser);
        g_tmpl[t].ser = NULL;
    }
    g_ntmpl = 0;
}

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


/* A value's text (inside a JSON string). */
static int value_text(Dec *d, const Val *v) {
    if (!d->recording) return value_text_raw(d, v);
    TRY(vop_begin(d, v, 0));
    TRY(value_text_raw(d, v));
    vop_end(d);
    return 0;
}

int value_text_raw(Dec *d, const Val *v) {
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


static int value_number(Dec *d, const Val *v) {
    if (!d->recording) return value_number_raw(d, v);
    TRY(vop_begin(d, v, 1));
    TRY(value_number_raw(d, v));
    vop_end(d);
    return 0;
}

/* a number value's magnitude and sign, as JSON writes it */
uint64_t number_of(const Dec *d, const Val *v, int *neg) {
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

int value_number_raw(Dec *d, const Val *v) {
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
const WfApi *wf;


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
        {&k_systemtime, "SystemTime"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (*names[i].slot == NULL && (*names[i].slot = PyUnicode_InternFromString(names[i].text)) == NULL)
            return NULL;
    if (walk_init() < 0) return NULL;
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
    if (direct != NULL && g_active == 0 && (plans_full() || g_ntmpl >= GT / 2)) forget_shapes();
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
        const Compiled *text = pl != NULL ? plan_text(pl) : NULL;
        int replayed = text != NULL;
        d->recording = direct != NULL && pl == NULL;
        if ((replayed ? plan_replay(d, text) : record_write(d)) < 0) goto decline;
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

static PyObject *forget_plans(PyObject *self, PyObject *unused) {
    if (g_active == 0) forget_shapes();
    return Py_BuildValue("(ii)", plans_count(), g_ntmpl);
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

