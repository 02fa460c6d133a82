// Bench for lg_matvec: every output compared bit-exactly with the C twin
// lg_ref_matvec on random I8E matrices (built directly as lg_qmat with random
// mantissas, dexps and ebase) and random A16 vectors, with random valid gaps
// on the weight stream and random backpressure on m_out, plus extreme values
// (+-127 x +-32767, dexp 15) for both saturations. Without stalls it also
// checks the latency and throughput the module header promises: each row's
// result lg_matvec_latency cycles after its last beat, done
// lg_matvec_run_cycles after start.
//
// Built once per configuration with -DTB_LANES= -DTB_GROUP= -DTB_ROWS=
// -DTB_COLS= against the model verilated with --prefix Vdut. With
// -DTB_COLS2= (model verilated with -GCOLS2=) the engine holds a second
// vector: the cases run over region 0, then region 1 (its own row length),
// then each region again without reloading, so a region's writes must leave
// the other intact (the decoder keeps the dim vector while the W2 vector
// loads).
// Plusargs: +seed=N (default 1), +trace[=FILE].
#include "Vdut.h"
#include "testb.h"

extern "C" {
#include "llamagen/emit_units.h"
#include "llamagen/ref.h"
}

#include <algorithm>
#include <cinttypes>
#include <random>
#include <vector>

#if !defined(TB_LANES) || !defined(TB_GROUP) || !defined(TB_ROWS) || !defined(TB_COLS)
#error "build with -DTB_LANES= -DTB_GROUP= -DTB_ROWS= -DTB_COLS="
#endif

// the shape of the region under test (cols: COLS or COLS2) and its select
// -DTB_MUL_SHARE=1: the lean form (serial output stage, its latency)
#ifndef TB_MUL_SHARE
#define TB_MUL_SHARE 0
#endif
static lg_matvec_params P = {TB_LANES, TB_GROUP, TB_ROWS, TB_COLS, TB_MUL_SHARE};
static int SEL = 0;

// activation write lanes (a model verilated with -GWL=): chunk c holds
// inputs c*WL .. c*WL+WL-1, lanes past cols driven with noise
#ifndef TB_WL
#define TB_WL 1
#endif
static const int WL = TB_WL;
static int nch() { return (P.cols + WL - 1) / WL; }

template <typename T> static void set_lane16(T &v, int i, uint16_t x)
{
    if constexpr (sizeof(T) <= 8) {
        uint64_t mask = 0xffffull << (i * 16);
        v = (T)(((uint64_t)v & ~mask) | ((uint64_t)x << (i * 16)));
    } else {
        uint32_t &w = v[i / 2];
        int sh = (i % 2) * 16;
        w = (w & ~(0xffffu << sh)) | ((uint32_t)x << sh);
    }
}

typedef TESTB<Vdut> TB;

// ---- wide port helpers -----------------------------------------------------------

// A bus image as 32-bit words, lsb first.
struct Bus {
    std::vector<uint32_t> w;
    explicit Bus(int bits) : w((size_t)(bits + 31) / 32 + 1, 0) {}
    void put(int lsb, int width, uint64_t v)
    {
        for (int k = 0; k < width; k++, lsb++) {
            uint32_t bit = (uint32_t)(v >> k) & 1u;
            w[(size_t)lsb / 32] = (w[(size_t)lsb / 32] & ~(1u << (lsb % 32))) | bit << (lsb % 32);
        }
    }
};

template <typename T> static void bus_set(T &port, const Bus &b)
{
    port = (T)((uint64_t)b.w[0] | (uint64_t)b.w[1] << 32);
}

template <std::size_t N> static void bus_set(VlWide<N> &port, const Bus &b)
{
    for (std::size_t i = 0; i < N; i++)
        port[i] = b.w[i];
}

// ---- test cases -------------------------------------------------------------------

struct Case {
    const char *name;
    std::vector<int8_t> mant;  // (rows, cols)
    std::vector<uint8_t> dexp; // (rows, ngroups)
    std::vector<int16_t> x;    // (cols)
    int shift;                 // SHIFT = -(ebase + xs), -128..127
    int in_idle_pct;           // chance of a gap before a weight beat
    int out_stall_pct;         // chance of m_out_ready low in a cycle
    bool load_act;             // write x before start (else reuse the buffer)
    bool check_timing;         // no stalls: check latency and run length
    int cut = 0;               // > 0: a second start (shift2) after row cut - 1's
    int shift2 = 0;            // last beat cuts the run short; all ROWS rows follow
};

static int ngroups() { return (P.cols + P.group - 1) / P.group; }

enum Fill { RANDOM, SAT_POS, SAT_NEG, EXTREME, ZERO_X, SMALL };

static Case make_case(std::mt19937_64 &rng, const char *name, Fill fill, int shift, int in_idle,
                      int out_stall, bool load_act)
{
    Case c;
    c.name = name;
    c.shift = shift;
    c.in_idle_pct = in_idle;
    c.out_stall_pct = out_stall;
    c.load_act = load_act;
    c.check_timing = in_idle == 0 && out_stall == 0;
    c.mant.resize((size_t)P.rows * P.cols);
    c.dexp.resize((size_t)P.rows * ngroups());
    c.x.resize((size_t)P.cols);
    std::uniform_int_distribution<int> m8(-127, 127), a16(-32767, 32767), d4(0, 15), sgn(0, 1),
        pct(0, 99);
    for (auto &v : c.mant) {
        switch (fill) {
        case SAT_POS: v = 127; break;
        case SAT_NEG: v = -127; break;
        case EXTREME: v = sgn(rng) ? 127 : -127; break;
        case SMALL: v = (int8_t)(pct(rng) < 90 ? 0 : sgn(rng) ? 1 : -1); break;
        default: v = (int8_t)m8(rng); break;
        }
    }
    for (auto &v : c.dexp)
        v = (uint8_t)(fill == SAT_POS || fill == SAT_NEG ? 15
                      : fill == EXTREME                 ? (sgn(rng) ? 15 : 0)
                      : fill == SMALL                   ? (uint8_t)(d4(rng) & 3)
                                                        : d4(rng));
    for (auto &v : c.x) {
        switch (fill) {
        case SAT_POS:
        case SAT_NEG: v = 32767; break;
        case EXTREME: v = sgn(rng) ? 32767 : -32767; break;
        case ZERO_X: v = 0; break;
        case SMALL: v = (int16_t)(m8(rng) % 4); break;
        default: v = (int16_t)a16(rng); break;
        }
    }
    return c;
}

// ---- one run -------------------------------------------------------------------------

static int run_case(TB &tb, std::mt19937_64 &rng, const Case &c, const std::vector<int16_t> &act)
{
    const int L = P.lanes, B = lg_matvec_beats(&P), ng = ngroups();
    const int nd = lg_matvec_dexps(&P);
    Vdut *m = tb.m;
    int errors = 0;
    auto fail = [&](const char *what, long a, long b) {
        if (errors++ < 10)
            std::printf("  %s: %s: got %ld expected %ld (cycle %" PRIu64 ")\n", c.name, what, a,
                        b, tb.cycle);
    };

    // Expected results from the C twin: xs and ebase split SHIFT arbitrarily.
    std::uniform_int_distribution<int> xsd(0, LG_A16_SHIFT_MAX);
    int xs = xsd(rng);
    lg_qmat w;
    w.rows = P.rows;
    w.cols = P.cols;
    w.group = P.group;
    w.ngroups = ng;
    w.ebase = -c.shift - xs;
    w.mant = const_cast<int8_t *>(c.mant.data());
    w.dexp = const_cast<uint8_t *>(c.dexp.data());
    std::vector<int32_t> expect((size_t)P.rows);
    lg_ref_matvec(expect.data(), &w, act.data(), xs);
    // a cut run: its first cut rows with shift, then all rows with shift2
    const int NOUT = c.cut + P.rows;
    if (c.cut > 0) {
        std::vector<int32_t> e2((size_t)P.rows);
        w.ebase = -c.shift2 - xs;
        lg_ref_matvec(e2.data(), &w, act.data(), xs);
        w.ebase = -c.shift - xs;
        expect.resize((size_t)c.cut);
        expect.insert(expect.end(), e2.begin(), e2.end());
    }

    std::uniform_int_distribution<int> pct(0, 99), any8(-128, 127), any4(0, 15);

    // Activation buffer: written in a random order, with random gaps.
    if (c.load_act) {
        const int NCH = nch();
        std::vector<int> order((size_t)NCH);
        for (int i = 0; i < NCH; i++)
            order[(size_t)i] = i;
        std::shuffle(order.begin(), order.end(), rng);
        for (int i : order) {
            while (pct(rng) < c.in_idle_pct) {
                m->act_we = 0;
                m->act_waddr = (uint32_t)(pct(rng) % NCH); // noise, not written
                m->act_wsel = pct(rng) & 1;
                tb.tick();
            }
            m->act_we = 1;
            m->act_wsel = SEL;
            m->act_waddr = (uint32_t)i;
            for (int l = 0; l < WL; l++) {
                int e = i * WL + l;
                set_lane16(m->act_wdata, l,
                           e < P.cols ? (uint16_t)act[(size_t)e] : (uint16_t)any8(rng));
            }
            tb.tick();
        }
        m->act_we = 0;
    }

    // Start.
    tb.settle();
    if (m->busy)
        fail("busy before start", 1, 0);
    m->start = 1;
    m->shift = (uint8_t)(int8_t)c.shift;
    m->start_sel = SEL;
    uint64_t t_start = tb.cycle;
    tb.tick();
    m->start = 0;
    m->shift = (uint8_t)(int8_t)any8(rng); // captured at start only
    m->start_sel = pct(rng) & 1;

    int beat = 0, row = 0, out_row = 0, dones = 0;
    int phase = c.cut > 0 ? 0 : 1; // 0: the run to be cut, 1: the last run
    bool starting = false;
    bool have_beat = false;
    uint64_t t_done = 0;
    std::vector<uint64_t> t_last_beat((size_t)P.rows), t_out((size_t)NOUT);
    bool prev_stalled = false;
    uint32_t prev_data = 0;
    int prev_last = 0;
    const uint64_t limit = tb.cycle + 1000 + (uint64_t)NOUT * B * 200;

    while (tb.cycle < limit) {
        if (starting) {
            m->start = 0;
            m->shift = (uint8_t)(int8_t)any8(rng);
            starting = false;
            phase = 1;
            row = 0;
        }
        const int row_end = phase == 0 ? c.cut : P.rows;
        // Weight source: valid stays high and data stable until taken.
        if (!have_beat && row < row_end && pct(rng) >= c.in_idle_pct) {
            Bus mb(L * 8), db(nd * 4);
            for (int i = 0; i < L; i++) {
                int col = beat * L + i;
                int v = col < P.cols ? c.mant[(size_t)row * P.cols + col] : any8(rng);
                mb.put(8 * i, 8, (uint8_t)(int8_t)v);
            }
            for (int j = 0; j < nd; j++) {
                int g = (beat * L) / P.group + j;
                db.put(4 * j, 4, g < ng ? c.dexp[(size_t)row * ng + g] : any4(rng));
            }
            bus_set(m->s_w_mant, mb);
            bus_set(m->s_w_dexp, db);
            have_beat = true;
        }
        m->s_w_valid = have_beat;
        if (phase == 0 && row == c.cut) {
            // the cut: a start at the row boundary, no beat in that cycle
            m->start = 1;
            m->shift = (uint8_t)(int8_t)c.shift2;
            m->start_sel = SEL;
            starting = true;
        }
        m->m_out_ready = pct(rng) >= c.out_stall_pct;
        tb.settle();

        // m_out: stable while stalled, then compared with the C twin.
        if (prev_stalled && (!m->m_out_valid || m->m_out_data != prev_data ||
                             m->m_out_last != prev_last))
            fail("m_out changed while stalled", (long)m->m_out_data, (long)prev_data);
        prev_stalled = m->m_out_valid && !m->m_out_ready;
        prev_data = m->m_out_data;
        prev_last = m->m_out_last;
        if (m->m_out_valid && m->m_out_ready) {
            if (out_row >= NOUT) {
                fail("extra output", out_row, NOUT);
            } else {
                if ((int32_t)m->m_out_data != expect[(size_t)out_row]) {
                    if (errors < 10)
                        std::printf("  row %d acc %" PRId64 ":\n", out_row,
                                    lg_ref_matvec_acc(&w, out_row, act.data()));
                    fail("m_out_data", (int32_t)m->m_out_data, expect[(size_t)out_row]);
                }
                if (m->m_out_last != (out_row == NOUT - 1))
                    fail("m_out_last", m->m_out_last, out_row == NOUT - 1);
                t_out[(size_t)out_row] = tb.cycle;
            }
            out_row++;
        }
        if (m->s_w_ready && row >= P.rows)
            fail("s_w_ready after the last beat", 1, 0);
        if (m->s_w_valid && m->s_w_ready) {
            have_beat = false;
            if (++beat == B) {
                if (phase == 1)
                    t_last_beat[(size_t)row] = tb.cycle;
                beat = 0;
                row++;
            }
        }
        if (m->done) {
            if (dones++ == 0)
                t_done = tb.cycle;
            if (m->busy)
                fail("busy with done", 1, 0);
        }
        if (!m->busy && !m->done && dones == 0)
            fail("busy low before done", 0, 1);
        if (dones)
            break;
        tb.tick();
    }
    m->s_w_valid = 0;
    // A few idle cycles: nothing more may come out.
    for (int i = 0; i < 4; i++) {
        tb.tick();
        tb.settle();
        if (m->m_out_valid || m->done || m->s_w_ready)
            fail("activity after done", 1, 0);
    }
    if (out_row != NOUT)
        fail("rows out", out_row, NOUT);
    if (dones != 1)
        fail("done pulses", dones, 1);

    if (c.check_timing && errors == 0) {
        long run = (long)(t_done - t_start);
        if (c.cut == 0 && run != lg_matvec_run_cycles(&P))
            fail("start to done cycles", run, (long)lg_matvec_run_cycles(&P));
        for (int r = 0; r < P.rows; r++) {
            long lat = (long)(t_out[(size_t)(c.cut + r)] - t_last_beat[(size_t)r]);
            if (lat != lg_matvec_latency(&P)) {
                fail("row latency", lat, lg_matvec_latency(&P));
                break;
            }
        }
        std::printf("  %s: start to done %ld cycles (rows %d x beats %d + %d), row latency %d\n",
                    c.name, run, P.rows, B, (int)(run - (long)P.rows * B),
                    lg_matvec_latency(&P));
    }
    // What the comparisons covered: saturated, zero and in-range results.
    int nsat = 0, nzero = 0;
    for (int32_t v : expect) {
        nsat += v == (int32_t)LG_SAT32 || v == -(int32_t)LG_SAT32;
        nzero += v == 0;
    }
    std::printf("  %-22s shift %4d: %s (%d rows: %d saturated, %d zero)\n", c.name, c.shift,
                errors ? "FAIL" : "ok", NOUT, nsat, nzero);
    return errors;
}

int main(int argc, char **argv)
{
    TB tb(argc, argv, "tb_matvec");
    std::mt19937_64 rng(tb.plusarg("seed", 1));
    std::printf("tb_matvec: lanes %d group %d rows %d cols %d (beats/row %d, acc %d bits), "
                "%d per write, %s output stage\n",
                P.lanes, P.group, P.rows, P.cols, lg_matvec_beats(&P), lg_matvec_acc_width(&P),
                WL, lg_matvec_serial(&P) ? "serial" : "one-cycle");

    Vdut *m = tb.m;
    m->act_we = 0;
    m->start = 0;
    m->s_w_valid = 0;
    m->m_out_ready = 0;
    tb.reset(4);

    std::uniform_int_distribution<int> sh_any(-128, 127), sh_mid(8, 40);
    std::vector<Case> cases;
    cases.push_back(make_case(rng, "random, no stalls", RANDOM, 24, 0, 0, true));
    cases.push_back(make_case(rng, "random, stalls", RANDOM, sh_mid(rng), 30, 40, true));
    cases.push_back(make_case(rng, "random, any shift", RANDOM, sh_any(rng), 20, 20, true));
    cases.push_back(make_case(rng, "reuse buffer, heavy bp", RANDOM, sh_mid(rng), 50, 85, false));
    cases.push_back(make_case(rng, "+127 x +32767, sat+", SAT_POS, 0, 0, 0, true));
    cases.push_back(make_case(rng, "-127 x +32767, sat-", SAT_NEG, -5, 10, 30, true));
    cases.push_back(make_case(rng, "+-127 x +-32767", EXTREME, 30, 10, 30, true));
    cases.push_back(make_case(rng, "+-127 x +-32767 left", EXTREME, -3, 0, 50, true));
    cases.push_back(make_case(rng, "zero x, shift -128", ZERO_X, -128, 5, 5, true));
    cases.push_back(make_case(rng, "random, small results", RANDOM, 31, 10, 10, true));
    cases.push_back(make_case(rng, "random, part saturated", RANDOM, 4, 10, 10, true));
    cases.push_back(make_case(rng, "random, shift 127", RANDOM, 127, 5, 5, true));
    cases.push_back(make_case(rng, "random, shift -128", RANDOM, -128, 0, 0, true));
    // runs cut short by the next start (the decoder's chained Wq, Wk, Wv):
    // the rows in flight keep their own run's shift
    cases.push_back(make_case(rng, "cut after 1 row", RANDOM, 20, 0, 0, false));
    cases.back().cut = 1;
    cases.back().shift2 = -2;
    cases.push_back(make_case(rng, "cut halfway, stalls", RANDOM, 36, 10, 20, false));
    cases.back().cut = TB_ROWS / 2;
    cases.back().shift2 = 16;
    cases.push_back(make_case(rng, "cut halfway", SMALL, -20, 0, 0, true));
    cases.back().cut = TB_ROWS / 2 + 1;
    cases.back().shift2 = 2;

#if TB_MUL_SHARE
    // the serial output stage: every shift amount it distinguishes (left
    // shifts up to and past the clamp at 31, each count of one- and
    // eight-bit steps, right shifts up to and past the clamp clog2(cols) +
    // 39), with light stalls; small values (+-1 mantissas, |x| <= 3) where
    // the shift is left or short, so that not every result saturates
    static char sweep_names[140][32];
    for (int sh = -34; sh <= lg_matvec_acc_width(&P) + 2; sh++) {
        char *nm = sweep_names[sh + 34];
        std::snprintf(nm, sizeof sweep_names[0], "sweep %d", sh);
        cases.push_back(make_case(rng, nm, sh <= 8 ? SMALL : RANDOM, sh, 5, 5, true));
    }
#endif

    int errors = 0;
    std::vector<int16_t> act;
    for (const Case &c : cases) {
        if (c.load_act)
            act = c.x;
        errors += run_case(tb, rng, c, act);
    }
#ifdef TB_COLS2
    // region 1: its own vector and row length, region 0's vector kept
    std::vector<int16_t> act0 = act, act1;
    P.cols = TB_COLS2;
    SEL = 1;
    std::printf("region 1: cols %d (beats/row %d)\n", P.cols, lg_matvec_beats(&P));
    std::vector<Case> cases1;
    cases1.push_back(make_case(rng, "r1 random, no stalls", RANDOM, 24, 0, 0, true));
    cases1.push_back(make_case(rng, "r1 random, stalls", RANDOM, sh_mid(rng), 30, 40, true));
    cases1.push_back(make_case(rng, "r1 reuse, heavy bp", RANDOM, sh_mid(rng), 50, 85, false));
    cases1.push_back(make_case(rng, "r1 +-127 x +-32767", EXTREME, 30, 10, 30, true));
    cases1.push_back(make_case(rng, "r1 random, any shift", RANDOM, sh_any(rng), 20, 20, true));
    for (const Case &c : cases1) {
        if (c.load_act)
            act1 = c.x;
        errors += run_case(tb, rng, c, act1);
    }
    // each region again without reloading
    P.cols = TB_COLS;
    SEL = 0;
    errors += run_case(tb, rng, make_case(rng, "r0 kept, no stalls", RANDOM, 20, 0, 0, false), act0);
    P.cols = TB_COLS2;
    SEL = 1;
    errors += run_case(tb, rng, make_case(rng, "r1 kept, stalls", RANDOM, 12, 20, 20, false), act1);
#endif
    return tb.finish(errors == 0);
}
