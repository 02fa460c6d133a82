// tb_silu: lg_silu_gate and lg_residual (silu_260k) and the mul_share forms
// lg_silu_gate_share (silu_260k_share: one shared multiplier) and
// lg_residual_share (saturation by the register's set / reset) against the C
// twins lg_ref_silu_gate and lg_ref_residual.
//
// Each unit joins two input streams; every stream gets its own random valid
// gaps and the output random backpressure. h1 sweeps [-20, 20] in Q16 (the
// whole interpolated range of the sigmoid and its saturation), both ends of
// every table interval (T[i] and T[i+1] of each, T[512] included) and the
// extremes +-(2^31 - 1) and -2^31; h3 and the residual operands mix typical
// values with extremes, so both saturations are hit. The first 2 * 172 pairs
// run at full rate (260k hidden width; no gaps, no backpressure) and each
// result must appear exactly at the promised latency (silu 6 cycles,
// residual 1 cycle after the handshake cycle, its mul_share form too (its
// full-rate pairs avoid a sum of -2^31, which takes a cycle more); silu mul_share
// LG_SILU_SHARE_LAT (2) cycles after its late handshake, which it makes
// exactly one element per LG_SILU_SHARE_ELEM cycles apart, checked too).
//   +seed=N  stimulus seed      +trace  waveform (if verilated with --trace)
#include "Vdut.h" // tb_silu_top (verilated with --prefix Vdut)
#include "testb.h"

extern "C" {
#include "llamagen/emit_units2.h" // LG_SILU_SHARE_ELEM
#include "llamagen/ref.h"
}

#include <cstdio>
#include <deque>
#include <vector>

static uint64_t rng_state;
static uint64_t rnd64()
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static bool chance(int pct) { return (int)(rnd64() % 100) < pct; }

static int32_t rnd_val()
{
    switch (rnd64() % 5) {
    case 0:
        return chance(50) ? 0x7fffffff : (chance(50) ? -0x7fffffff : INT32_MIN);
    case 1:
        return (int32_t)(rnd64() >> 32);
    default: { // typical activations: up to +-2^(8..24) in Q16
        int bits = 8 + (int)(rnd64() % 17);
        int64_t v = (int64_t)(rnd64() >> (64 - bits));
        return (int32_t)(chance(50) ? -v : v);
    }
    }
}

// ---- one joined two-input unit ---------------------------------------------------

struct JoinPort {
    CData *a_valid, *a_ready, *b_valid, *b_ready, *m_valid, *m_ready;
    IData *a_data, *b_data, *m_data;
};

struct JoinBench {
    const char *name;
    int lat;        // promised latency (cycles)
    int full_rate;  // leading pairs at full rate
    int period = 0; // handshakes at full rate exactly this many cycles apart (0: not checked)
    uint64_t last_fire = 0;
    JoinPort p;
    std::vector<int32_t> a, b, want;
    size_t in_pos = 0, out_pos = 0;
    bool hold_a = false, hold_b = false, fire = false, m_fire = false;
    uint32_t m_seen = 0;
    std::deque<uint64_t> due;
    uint64_t errors = 0, timed = 0, sats = 0;

    bool done() const { return out_pos == want.size(); }
    bool full() const { return out_pos < (size_t)full_rate; }

    void drive()
    {
        bool more = in_pos < a.size();
        bool fr = in_pos < (size_t)full_rate;
        // A stream's valid stays up until its (joined) handshake.
        hold_a = more && (hold_a || fr || chance(70));
        hold_b = more && (hold_b || fr || chance(70));
        *p.a_valid = hold_a;
        *p.b_valid = hold_b;
        *p.a_data = hold_a ? (uint32_t)a[in_pos] : (uint32_t)rnd64();
        *p.b_data = hold_b ? (uint32_t)b[in_pos] : (uint32_t)rnd64();
        *p.m_ready = full() || chance(70);
    }

    void sample()
    {
        bool fa = *p.a_valid && *p.a_ready, fb = *p.b_valid && *p.b_ready;
        if (fa != fb && errors++ < 10)
            std::printf("%s: input handshakes not joined (a %d, b %d)\n", name, fa, fb);
        fire = fa && fb;
        m_fire = *p.m_valid && *p.m_ready;
        m_seen = *p.m_data;
    }

    void after_edge(uint64_t cycle)
    {
        if (m_fire) {
            if ((int32_t)m_seen != want[out_pos] && errors++ < 10)
                std::printf("%s: element %zu (%d, %d): got %d, want %d\n", name, out_pos,
                            a[out_pos], b[out_pos], (int32_t)m_seen, want[out_pos]);
            if (full()) {
                if (due.empty() || due.front() != cycle - 1) {
                    if (errors++ < 10)
                        std::printf("%s: element %zu out in cycle %llu, due %lld\n", name,
                                    out_pos, (unsigned long long)(cycle - 1),
                                    due.empty() ? -1ll : (long long)due.front());
                } else {
                    timed++;
                }
                if (!due.empty())
                    due.pop_front();
            }
            out_pos++;
        }
        if (fire) {
            if (in_pos < (size_t)full_rate) {
                due.push_back(cycle - 1 + lat);
                if (period && in_pos > 0 && cycle - last_fire != (uint64_t)period &&
                    errors++ < 10)
                    std::printf("%s: element %zu taken %llu cycles after the previous, want %d\n",
                                name, in_pos, (unsigned long long)(cycle - last_fire), period);
                last_fire = cycle;
            }
            hold_a = hold_b = false;
            in_pos++;
        }
    }
};

int main(int argc, char **argv)
{
    TESTB<Vdut> tb(argc, argv, "tb_silu");
    rng_state = tb.plusarg("seed", 1);
    lg_luts t;
    lg_luts_build(&t);
    auto *m = tb.m;

    JoinBench g{"silu_gate", 6, 2 * 172}, r{"residual", 1, 2 * 172};
    JoinBench sh{"silu_gate_share", LG_SILU_SHARE_LAT, 2 * 172};
    JoinBench rs{"residual_share", 1, 2 * 172};
    sh.period = LG_SILU_SHARE_ELEM;
    g.p = {&m->g_h1_valid, &m->g_h1_ready, &m->g_h3_valid, &m->g_h3_ready,
           &m->g_m_valid,  &m->g_m_ready,  &m->g_h1_data,  &m->g_h3_data, &m->g_m_data};
    sh.p = {&m->s_h1_valid, &m->s_h1_ready, &m->s_h3_valid, &m->s_h3_ready,
            &m->s_m_valid,  &m->s_m_ready,  &m->s_h1_data,  &m->s_h3_data, &m->s_m_data};
    r.p = {&m->r_x_valid, &m->r_x_ready, &m->r_d_valid, &m->r_d_ready,
           &m->r_m_valid, &m->r_m_ready, &m->r_x_data,  &m->r_d_data, &m->r_m_data};
    rs.p = {&m->q_x_valid, &m->q_x_ready, &m->q_d_valid, &m->q_d_ready,
            &m->q_m_valid, &m->q_m_ready, &m->q_x_data,  &m->q_d_data, &m->q_m_data};

    // silu: a sweep of h1 over [-20, 20] (stride 61) with random h3, then random pairs.
    for (int64_t x = -20 * 65536; x <= 20 * 65536; x += 61) {
        g.a.push_back((int32_t)x);
        g.b.push_back(rnd_val());
    }
    const int32_t edge[] = {0, 1, -1, 0x7fffffff, -0x7fffffff, INT32_MIN, 16 << 16, -(16 << 16)};
    for (int32_t e1 : edge)
        for (int32_t e3 : edge) {
            g.a.push_back(e1);
            g.b.push_back(e3);
        }
    // |y| around 2^31, both signs (silu(h1) = h1 for h1 >= 16, h3 = +-2.0 or
    // +-1.5): the mul_share form's output stage forms |y| - [y < 0], which is
    // 2^31 - 1 for y = -2^31 (saturated to -(2^31 - 1): only bit 0 differs).
    for (int32_t h1 : {0x3fffffff, 0x40000000, 0x40000001, 0x55555555, 0x55555556})
        for (int32_t h3 : {131072, -131072, 98304, -98304}) {
            g.a.push_back(h1);
            g.b.push_back(h3);
        }
    // both ends of every table interval i (fr = 0 and 2047, both signs; i = 511
    // reads T[512]): the mul_share sigmoid reads T[i] and T[i+1] on two
    // cycles and wraps to T[0] for T[512].
    for (int32_t i = 0; i < LG_SIG_N; i++)
        for (int32_t fr : {0, 2047}) {
            const int32_t a = i * 2048 + fr;
            g.a.push_back(a);
            g.b.push_back(rnd_val());
            g.a.push_back(-a);
            g.b.push_back(rnd_val());
        }
    for (int i = 0; i < 20000; i++) {
        g.a.push_back(rnd_val());
        g.b.push_back(rnd_val());
    }
    g.want = g.a;
    lg_ref_silu_gate(g.want.data(), g.b.data(), (int)g.want.size(), &t);
    sh.a = g.a; // the same stimulus for the mul_share form
    sh.b = g.b;
    sh.want = g.want;
    // residual: random pairs plus every pair of extremes.
    for (int32_t e1 : edge)
        for (int32_t e3 : edge) {
            r.a.push_back(e1);
            r.b.push_back(e3);
        }
    for (int i = 0; i < 20000; i++) {
        r.a.push_back(rnd_val());
        r.b.push_back(rnd_val());
    }
    r.want = r.a;
    lg_ref_residual(r.want.data(), r.b.data(), (int)r.want.size());
    // the mul_share residual: the same pairs, the extremes last (after the
    // full-rate ones), and sums of exactly -2^31 (its extra cycle)
    rs.a.assign(r.a.begin() + 64, r.a.end());
    rs.b.assign(r.b.begin() + 64, r.b.end());
    rs.a.insert(rs.a.end(), r.a.begin(), r.a.begin() + 64);
    rs.b.insert(rs.b.end(), r.b.begin(), r.b.begin() + 64);
    for (int32_t x : {INT32_MIN, -1, -0x40000000, 0, -0x7fffffff}) {
        rs.a.push_back(x);
        rs.b.push_back((int32_t)((int64_t)INT32_MIN - x));
    }
    rs.want = rs.a;
    lg_ref_residual(rs.want.data(), rs.b.data(), (int)rs.want.size());
    JoinBench *benches[4] = {&g, &r, &sh, &rs};
    for (JoinBench *jb : benches)
        for (int32_t w : jb->want)
            jb->sats += w == 0x7fffffff || w == -0x7fffffff;

    tb.reset(3);
    while (!(g.done() && r.done() && sh.done() && rs.done()) && tb.cycle < 2000000) {
        for (JoinBench *jb : benches)
            jb->drive();
        tb.settle();
        for (JoinBench *jb : benches)
            jb->sample();
        tb.tick();
        for (JoinBench *jb : benches)
            jb->after_edge(tb.cycle);
    }
    bool ok = true;
    for (JoinBench *jb : benches) {
        std::printf("%s: %zu of %zu outputs checked (%llu saturated), %llu at latency %d, %llu "
                    "errors\n",
                    jb->name, jb->out_pos, jb->want.size(), (unsigned long long)jb->sats,
                    (unsigned long long)jb->timed, jb->lat, (unsigned long long)jb->errors);
        ok &= jb->errors == 0 && jb->done() && jb->timed == (uint64_t)jb->full_rate && jb->sats > 0;
    }
    return tb.finish(ok);
}
