// Bench for lg_attention with lg_kvcache (tb_attn_top): each case fills rows
// 0..pos of one layer through the cache's RTL write ports with K and V rows,
// runs one attention call with a query, and compares every output value
// bit-exactly with the C twin lg_ref_attention_head (per query head, over the
// C cache filled by lg_ref_kv_quant from the same rows). Cases: random data,
// scores that rise every row (the running max moves each time) and fall
// every row (it never moves), a jump from the lowest to the highest score
// (the rescale shift clamps and wipes o and l), extreme values (saturated scores, -2^31 and
// 2^31-1 in q, K and V: exponents past 8, left-shifted score terms), zeros,
// equal rows (also with extreme V at seq_len - 1: l and o at their bounds),
// widely spread scores (exp2 underflow), at positions 0, 1,
// small, random and long (300, seq_len - 1). Stall cases randomize every
// stream: query gaps, output backpressure, and gates on the four
// cache <-> attention streams. No-stall cases check the cycles start -> done
// against lg_attn_cycles() (the module header's formula) and report the
// multiplier utilization.
//
// Built per configuration against tb_attn_top's model (--prefix Vdut) with
// its tb_cfg.h; TB_MUL_SHARE 1 there: the lean form (lg_attention_share.v,
// one multiplier), checked the same way against its own lg_attn_cycles.
// Plusargs: +seed=N, +trace[=FILE].
#include "Vdut.h"
#include "tb_cfg.h"
#include "testb.h"

extern "C" {
#include "llamagen/emit_attn.h"
#include "llamagen/ref.h"
}

#include <cinttypes>
#include <random>
#include <string>
#include <vector>

typedef TESTB<Vdut> TB;

#ifndef TB_MUL_SHARE
#define TB_MUL_SHARE 0
#endif
// mul_share 1: the lean form (lg_attention_share.v), checked the same way
// (every output value, and the cycles against lg_attn_cycles)
static const lg_attn_params P = {TB_HEAD_SIZE, TB_N_HEADS, TB_N_KV_HEADS, TB_LAYERS, TB_SEQ_LEN,
                                 TB_KV_BITS,   TB_KV_GROUP, TB_LANES,     TB_SCORE_C,
                                 TB_KV_PORTS,  TB_QV_MAX,   TB_MUL_SHARE};
static const int HS = TB_HEAD_SIZE;
static const int KV_DIM = TB_HEAD_SIZE * TB_N_KV_HEADS;
static const int NGROUPS = KV_DIM / TB_KV_GROUP;
static const int QN = TB_N_HEADS * TB_HEAD_SIZE;
static const int GQA = TB_N_HEADS / TB_N_KV_HEADS;

static int g_errors = 0;
#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            if (g_errors++ < 20) {                                                             \
                std::printf("  FAIL: ");                                                       \
                std::printf(__VA_ARGS__);                                                      \
                std::printf("\n");                                                             \
            }                                                                                  \
        }                                                                                      \
    } while (0)

struct Case {
    std::string name;
    int layer, pos;
    bool stalls;
    std::vector<int32_t> k, v; // (pos + 1, KV_DIM) Q16 rows
    std::vector<int32_t> q;    // (N_HEADS * HEAD_SIZE) Q16
};

// ---- data patterns -----------------------------------------------------------------------

static int32_t rnd_bits(std::mt19937_64 &rng, int bits)
{
    if (bits <= 0)
        return 0;
    int64_t lim = bits >= 31 ? (int64_t)LG_SAT32 : ((int64_t)1 << bits) - 1;
    return (int32_t)((int64_t)(rng() % (uint64_t)(2 * lim + 1)) - lim);
}

static int32_t rnd_extreme(std::mt19937_64 &rng)
{
    switch (rng() % 4) {
    case 0: return INT32_MAX;
    case 1: return -INT32_MAX;
    case 2: return INT32_MIN;
    default: return rnd_bits(rng, 31);
    }
}

// EQMAX (not among the random picks): equal rows with extreme V of one sign
// per element, every row at p = 1: l and |o| at their bounds at seq_len - 1
// (the lean form's l and o widths)
// LEAP (not among the random picks either): equal rows with extreme V of one
// sign per element (|o| large), then a last row whose score is higher by
// ~25..45 log2 units, with V = 0: the outputs show o's rescale by d of 31
// and more (the lean form takes those from o's high word)
enum Pattern { RANDOM, RISING, FALLING, EXTREME, ZEROS, EQUAL, SPREAD, JUMP, EQMAX, LEAP };
static const char *pattern_name[] = {"random", "rising", "falling", "extreme", "zeros",
                                     "equal",  "spread", "jump",    "eqmax",   "leap"};

static Case make_case(std::mt19937_64 &rng, Pattern pat, int pos, bool stalls)
{
    Case c;
    c.name = pattern_name[pat];
    c.layer = (int)(rng() % TB_LAYERS);
    c.pos = pos;
    c.stalls = stalls;
    size_t rows = (size_t)pos + 1;
    c.k.resize(rows * KV_DIM);
    c.v.resize(rows * KV_DIM);
    c.q.resize(QN);
    std::vector<int> sign(QN); // per query element, for rising / falling
    for (int i = 0; i < QN; i++)
        sign[(size_t)i] = (rng() & 1) ? 1 : -1;
    // query: per head magnitude (so the A16 shift differs between heads)
    for (int h = 0; h < TB_N_HEADS; h++) {
        int bits = 8 + (int)(rng() % 16);
        for (int i = 0; i < HS; i++) {
            int32_t x = rnd_bits(rng, bits);
            if (pat == RISING || pat == FALLING || pat == JUMP || pat == LEAP)
                x = sign[(size_t)(h * HS + i)] * (int32_t)((1 << 16) + (rng() % (1 << 15)));
            if (pat == EXTREME)
                x = rnd_extreme(rng);
            if (pat == ZEROS && (h & 1))
                x = 0;
            c.q[(size_t)(h * HS + i)] = x;
        }
    }
    // step of the rising / falling keys: the score moves by ~1..4 log2 units a row
    int32_t step = (int32_t)((1 << 14) + (rng() % (1 << 15)));
    int32_t leap = pat == LEAP ? (int32_t)((5 << 16) + rng() % (4 << 16)) : 0;
    for (size_t t = 0; t < rows; t++) {
        for (int g = 0; g < NGROUPS; g++) {
            int kbits = 6 + (int)(rng() % 20), vbits = 4 + (int)(rng() % 26);
            for (int e = 0; e < TB_KV_GROUP; e++) {
                int i = g * TB_KV_GROUP + e;
                int32_t kx = rnd_bits(rng, kbits), vx = rnd_bits(rng, vbits);
                int kvh = i / HS, d = i % HS;
                // keys aligned with the query signs of the group's first head
                int s = sign[(size_t)(kvh * GQA * HS + d)];
                switch (pat) {
                case RISING: kx = s * (int32_t)(t + 1) * step / 8; break;
                case FALLING: kx = s * (int32_t)(rows - t) * step / 8; break;
                case EXTREME:
                    kx = rnd_extreme(rng);
                    vx = rnd_extreme(rng);
                    break;
                case ZEROS: kx = 0; break;
                case EQUAL: kx = (int32_t)((d * 7919 + kvh * 104729) % 200000) - 100000; break;
                case EQMAX: // z = 0 every row: p = 65536, l = (pos + 1) 2^16
                    kx = 0;
                    vx = (d & 1) ? INT32_MAX : -INT32_MAX;
                    break;
                case SPREAD: kx = rnd_bits(rng, 20 + (int)(rng() % 11)); break;
                case LEAP:
                    kx = t == (size_t)pos ? s * leap : 0;
                    vx = t == (size_t)pos ? 0 : (d & 1) ? INT32_MAX : -INT32_MAX;
                    break;
                case JUMP: // row 0 at the lowest score, row 1 at the highest (d clamps)
                    kx = t == 0 ? -s * INT32_MAX : t == 1 ? s * INT32_MAX : kx;
                    break;
                default: break;
                }
                c.k[t * KV_DIM + (size_t)i] = kx;
                c.v[t * KV_DIM + (size_t)i] = vx;
            }
        }
    }
    if (pat == SPREAD)
        for (int i = 0; i < QN; i++)
            c.q[(size_t)i] = rnd_bits(rng, 24 + (int)(rng() % 7));
    return c;
}

// ---- C twin ------------------------------------------------------------------------------

struct RefCache {
    std::vector<int16_t> km, vm;
    std::vector<uint8_t> ke, ve;
    lg_kvcache c;
    RefCache()
    {
        size_t rows = (size_t)TB_LAYERS * TB_SEQ_LEN;
        km.assign(rows * KV_DIM, 0);
        vm.assign(rows * KV_DIM, 0);
        ke.assign(rows * NGROUPS, 0);
        ve.assign(rows * NGROUPS, 0);
        c.n_layers = TB_LAYERS;
        c.seq_len = TB_SEQ_LEN;
        c.kv_dim = KV_DIM;
        c.group = TB_KV_GROUP;
        c.bits = TB_KV_BITS;
        c.ngroups = NGROUPS;
        c.k_mant = km.data();
        c.v_mant = vm.data();
        c.k_exp = ke.data();
        c.v_exp = ve.data();
    }
    void store(const Case &cs)
    {
        for (int t = 0; t <= cs.pos; t++) {
            size_t row = (size_t)cs.layer * TB_SEQ_LEN + (size_t)t;
            lg_ref_kv_quant(&km[row * KV_DIM], &ke[row * NGROUPS], &cs.k[(size_t)t * KV_DIM],
                            KV_DIM, TB_KV_GROUP, TB_KV_BITS);
            lg_ref_kv_quant(&vm[row * KV_DIM], &ve[row * NGROUPS], &cs.v[(size_t)t * KV_DIM],
                            KV_DIM, TB_KV_GROUP, TB_KV_BITS);
        }
    }
};

// ---- one case ----------------------------------------------------------------------------

// Writes rows 0..pos of the case's layer through the cache's write ports.
static void fill_cache(TB &tb, std::mt19937_64 &rng, const Case &c)
{
    Vdut *m = tb.m;
    size_t n = ((size_t)c.pos + 1) * KV_DIM, idx[2] = {0, 0};
    int dones[2] = {0, 0};
    // the lean quantizer (mul_share) takes K and V rows in turn, its read-out
    // bit-serial: about done_latency / kv_group cycles an element
    uint64_t limit = tb.cycle + 1000 + 4 * n +
                     2 * n * (uint64_t)(lg_kvcache_done_latency(&P) / TB_KV_GROUP + 2);
    while ((dones[0] <= c.pos || dones[1] <= c.pos) && tb.cycle < limit) {
        // mul_share: the cache reads a row's pos live until its done (as
        // the decoder's position register holds), so a port offers its next
        // row only after the previous one's done and shows the row in flight
        size_t wpos[2] = {idx[0] / KV_DIM, idx[1] / KV_DIM};
        if (TB_MUL_SHARE)
            for (int k = 0; k < 2; k++)
                wpos[k] = (size_t)dones[k];
        bool vk = idx[0] < n && idx[0] / KV_DIM == wpos[0] && (!c.stalls || rng() % 8 != 0);
        bool vv = idx[1] < n && idx[1] / KV_DIM == wpos[1] && (!c.stalls || rng() % 8 != 0);
        m->kw_k_valid = vk;
        m->kw_k_data = vk ? (uint32_t)c.k[idx[0]] : 0;
        m->kw_k_layer = (uint32_t)c.layer;
        m->kw_k_pos = (uint32_t)wpos[0];
        m->kw_v_valid = vv;
        m->kw_v_data = vv ? (uint32_t)c.v[idx[1]] : 0;
        m->kw_v_layer = (uint32_t)c.layer;
        m->kw_v_pos = (uint32_t)wpos[1];
        tb.settle();
        if (vk && m->kw_k_ready)
            idx[0]++;
        if (vv && m->kw_v_ready)
            idx[1]++;
        dones[0] += m->k_done;
        dones[1] += m->v_done;
        tb.tick();
    }
    m->kw_k_valid = m->kw_v_valid = 0;
    CHECK(dones[0] == c.pos + 1 && dones[1] == c.pos + 1, "%s pos %d: cache fill timed out",
          c.name.c_str(), c.pos);
}

// Runs one attention call; returns the cycles from start to done.
static uint64_t run_case(TB &tb, std::mt19937_64 &rng, const Case &c, const RefCache &ref,
                         const lg_luts &luts)
{
    Vdut *m = tb.m;
    // expected outputs, head by head
    std::vector<int32_t> expect((size_t)QN);
    for (int h = 0; h < TB_N_HEADS; h++)
        lg_ref_attention_head(&expect[(size_t)(h * HS)], &c.q[(size_t)(h * HS)], HS, &ref.c,
                              c.layer, (h / GQA) * HS, c.pos, TB_SCORE_C, &luts);

    m->gate = 0xf;
    m->out_ready = 1;
    m->q_valid = 0;
    m->start = 1;
    m->start_layer = (uint32_t)c.layer;
    m->start_pos = (uint32_t)c.pos;
    tb.settle();
    CHECK(!m->busy, "busy before start");
    uint64_t t0 = tb.cycle;
    tb.tick();
    m->start = 0;
    // must not matter after the start cycle (the lean form reads them until
    // done: lg_decoder holds them, so does this bench then)
    if (!TB_MUL_SHARE)
        m->start_pos = (uint32_t)rng();

    size_t qi = 0, oi = 0;
    bool qhave = false, done = false, prev_stall = false;
    uint32_t prev_data = 0, prev_last = 0;
    uint64_t t_done = 0, t_last_out = 0;
    uint64_t limit = tb.cycle + 5000 + 50 * (uint64_t)(c.pos + 1) * TB_N_HEADS * HS;
    while (!done && tb.cycle < limit) {
        if (!qhave && qi < (size_t)QN && (!c.stalls || rng() % 4 != 0))
            qhave = true;
        m->q_valid = qhave;
        m->q_data = qhave ? (uint32_t)c.q[qi] : (uint32_t)rng();
        m->out_ready = !c.stalls || rng() % 3 != 0;
        uint32_t gate = 0xf;
        if (c.stalls)
            for (int b = 0; b < 4; b++)
                if (rng() % 4 == 0)
                    gate &= ~(1u << b);
        m->gate = gate;
        tb.settle();
        CHECK(m->busy || m->done, "busy low during the call (cycle %" PRIu64 ")", tb.cycle);
        if (qhave && m->q_ready) {
            qi++;
            qhave = false;
        }
        if (prev_stall)
            CHECK(m->out_valid && m->out_data == prev_data && m->out_last == prev_last,
                  "output changed while stalled (cycle %" PRIu64 ")", tb.cycle);
        prev_stall = m->out_valid && !m->out_ready;
        prev_data = m->out_data;
        prev_last = m->out_last;
        if (m->out_valid && m->out_ready) {
            if (oi < (size_t)QN) {
                int32_t got = (int32_t)m->out_data;
                if (got != expect[oi]) {
                    int h = (int)(oi / HS), i = (int)(oi % HS);
                    CHECK(false, "%s pos %d layer %d: head %d out[%d] = %d, C twin %d",
                          c.name.c_str(), c.pos, c.layer, h, i, got, expect[oi]);
                }
                CHECK((bool)m->out_last == (oi == (size_t)QN - 1), "%s pos %d: last flag at %zu",
                      c.name.c_str(), c.pos, oi);
            } else {
                CHECK(false, "%s pos %d: extra output", c.name.c_str(), c.pos);
            }
            oi++;
            t_last_out = tb.cycle;
        }
        if (m->done) {
            done = true;
            t_done = tb.cycle;
            CHECK(oi == (size_t)QN && t_done == t_last_out + 1,
                  "%s pos %d: done after %zu outputs, %" PRIu64 " cycles after the last",
                  c.name.c_str(), c.pos, oi, t_done - t_last_out);
        }
        tb.tick();
    }
    CHECK(done, "%s pos %d: no done (%zu of %d outputs, %zu query values taken)",
          c.name.c_str(), c.pos, oi, QN, qi);
    m->q_valid = 0;
    m->gate = 0xf;
    m->out_ready = 1;
    tb.settle();
    CHECK(!m->busy && !m->err, "busy or err after done");
    return t_done - t0;
}

// ---- main --------------------------------------------------------------------------------

int main(int argc, char **argv)
{
    TB tb(argc, argv, "tb_attention");
    Vdut *m = tb.m;
    std::mt19937_64 rng(tb.plusarg("seed", 1));
    lg_err err = {{0}};
    if (lg_attn_check(&P, &err)) {
        std::printf("bad configuration: %s\n", err.msg);
        return 1;
    }
    lg_luts luts;
    lg_luts_build(&luts);
    RefCache ref;
    std::printf("tb_attention: head %d, %d heads / %d kv heads, kv_bits %d, kv_group %d, "
                "lanes %d (beat %d, %d cycle(s) a row), seq %d%s\n",
                HS, TB_N_HEADS, TB_N_KV_HEADS, TB_KV_BITS, TB_KV_GROUP, TB_LANES,
                lg_attn_beat(&P), lg_attn_row_cycles(&P), TB_SEQ_LEN,
                TB_MUL_SHARE ? " (lean form, mul_share)" : "");

    m->sel = 0;
    m->gate = 0xf;
    m->start = 0;
    m->q_valid = 0;
    m->out_ready = 1;
    m->kw_k_valid = m->kw_v_valid = 0;
    m->rq_k_valid = m->rq_v_valid = 0;
    m->rd_k_ready = m->rd_v_ready = 0;
    tb.reset(4);

    // (pattern, pos, stalls); pos < 0: from the end (-1 = seq_len - 1)
    struct Plan {
        Pattern pat;
        int pos;
        bool stalls;
    };
    std::vector<Plan> plan = {
        {RANDOM, 0, false},  {EXTREME, 0, true},   {ZEROS, 0, false},    {RISING, 1, false},
        {FALLING, 1, true},  {RANDOM, 2, true},    {RISING, 5, true},    {FALLING, 6, false},
        {EXTREME, 7, false}, {EQUAL, 9, true},     {SPREAD, 12, true},   {RANDOM, 13, false},
        {RISING, 19, false}, {EXTREME, 23, true},  {RANDOM, -1, false},  {SPREAD, -1, true},
        {JUMP, 1, false},    {JUMP, 4, true},
    };
    // random positions
    for (int i = 0; i < 4; i++)
        plan.push_back({(Pattern)(rng() % 8), (int)(rng() % (TB_SEQ_LEN < 40 ? TB_SEQ_LEN : 40)),
                        (rng() & 1) != 0});
    // long contexts where the cache has them (fewer: each is a long fill)
    if (TB_SEQ_LEN > 300) {
        plan.push_back({RISING, 300, true});
        plan.push_back({FALLING, 300, false});
        plan.push_back({EXTREME, 300, true});
    }
    plan.push_back({EQMAX, -1, false});
    // (their positions from a generator of their own: the other cases keep their data)
    std::mt19937_64 rng_leap(tb.plusarg("seed", 1) + 7);
    for (int i = 0; i < 6; i++)
        plan.push_back({LEAP, 1 + (int)(rng_leap() % (TB_SEQ_LEN < 40 ? TB_SEQ_LEN - 1 : 39)),
                        (i & 1) != 0});
    int ncases = 0;
    for (const Plan &pl : plan) {
        int pos = pl.pos < 0 ? TB_SEQ_LEN + pl.pos : pl.pos;
        if (pos >= TB_SEQ_LEN)
            pos = TB_SEQ_LEN - 1;
        Case c = make_case(rng, pl.pat, pos, pl.stalls);
        ref.store(c);
        fill_cache(tb, rng, c);
        uint64_t cyc = run_case(tb, rng, c, ref, luts);
        ncases++;
        if (!c.stalls) {
            int64_t want = lg_attn_cycles(&P, pos);
            double macs = 2.0 * TB_N_HEADS * HS * (pos + 1);
            std::printf("  %-8s pos %4d: %6" PRIu64 " cycles start to done (header: %lld), "
                        "%.2f cycles per head per row, lanes %.1f %% busy\n",
                        c.name.c_str(), pos, cyc, (long long)want,
                        (double)cyc / TB_N_HEADS / (pos + 1), 100.0 * macs / (TB_LANES * cyc));
            CHECK((int64_t)cyc == want, "%s pos %d: %" PRIu64 " cycles, header formula %lld",
                  c.name.c_str(), pos, cyc, (long long)want);
        }
    }

    // Timing sweep: every position through the changes of pace (rows vs back
    // end vs query quantizer), over one filled cache, no stalls.
    {
        int64_t nb = lg_attn_row_cycles(&P), slow = HS + 19 > 2 * HS + 3 ? HS + 19 : 2 * HS + 3;
        int pmax = (int)((slow + nb - 1) / nb) + 2;
        if (pmax > TB_SEQ_LEN - 1)
            pmax = TB_SEQ_LEN - 1;
        Case c = make_case(rng, RANDOM, pmax, false);
        ref.store(c);
        fill_cache(tb, rng, c);
        int bad = 0;
        for (int pos = 0; pos <= pmax; pos++) {
            Case cp = c;
            cp.pos = pos;
            uint64_t cyc = run_case(tb, rng, cp, ref, luts);
            bad += (int64_t)cyc != lg_attn_cycles(&P, pos);
            CHECK((int64_t)cyc == lg_attn_cycles(&P, pos),
                  "sweep pos %d: %" PRIu64 " cycles, header formula %lld", pos, cyc,
                  (long long)lg_attn_cycles(&P, pos));
            ncases++;
        }
        std::printf("  timing sweep pos 0..%d: %s\n", pmax, bad ? "MISMATCH" : "all as the header says");
    }

    // a start with pos >= SEQ_LEN: err, done, no output
    m->start = 1;
    m->start_layer = 0;
    m->start_pos = (uint32_t)TB_SEQ_LEN;
    tb.tick();
    m->start = 0;
    tb.settle();
    CHECK(m->done && m->err && !m->busy && !m->out_valid, "bad start: done %d err %d busy %d",
          m->done, m->err, m->busy);
    tb.tick();
    tb.settle();
    CHECK(!m->done && !m->out_valid, "bad start: done held or output");

    std::printf("tb_attention: %d cases\n", ncases);
    return tb.finish(g_errors == 0);
}
