// tb_rmsnorm: lg_rmsnorm_d64 (rmsnorm_260k: the 11 gain vectors of the
// synthetic stories260K), lg_rmsnorm_d4096 (rmsnorm_d4096: eps 0, gain
// exponents -12, -3, +4), lg_rmsnorm_d288 (rmsnorm_15m: a dim that is not
// a power of two, eps 1e-5) and lg_rmsnorm_d172 (rmsnorm_h172: dim 4 * 43)
// against the C twin lg_ref_rmsnorm, at several output widths VL:
//   VL 1: d64, d4096, d288      VL 16: d64 (4 beats), d172 (11 beats, the
//   VL 4: d288 (72 beats)              last 12 of 16 lanes)
//                               VL 8:  d172 (22 beats, the last 4 of 8 lanes)
// and the lean form (mul_share, modules lg_rmsnorm_d*s: one multiplier) at
//   VL 1: d64 (the iCEBreaker shape), d4096   VL 8: d172   VL 4: d288
//   VL 2: w64 (rmsnorm_w64: gain exponents -32, -20, 18 for output shifts
//         past 47 and below -15)
//
// The gains, exponents and eps table come from each config's bench_data.txt
// (written by gen_lut_units with the RTL). Each instance gets vectors of many
// shapes (realistic, zero, one nonzero, saturated, rounding to 32768, tiny,
// wide dynamic range, -2^31 present, random scales) with a random gain vector. The first two
// vectors run at full rate (s_valid and m_ready held high) and must take
// exactly the promised DIM + 2 * NR + 16 cycles (NR = ceil(DIM / VL) output
// beats; 3 * DIM + 16 at VL 1; lean form 27 * DIM + 3 * max(S_W, 34) - 19, as
// lg_rmsnorm_cycles says) from the first input handshake to done; the
// rest randomize s_valid gaps and m_ready backpressure. Every output bit of
// every element (element b * VL + i in lane i of beat b) and m_last (on beat
// NR - 1 only) are compared; the padding lanes past DIM in the last beat must
// be 0, as the unit's header promises.
//   +seed=N  stimulus seed      +trace  waveform (if verilated with --trace)
#include "Vdut.h" // tb_rmsnorm_top (verilated with --prefix Vdut)
#include "testb.h"

extern "C" {
#include "llamagen/emit_units2.h"
#include "llamagen/ref.h"
}

#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#ifndef LG_HDL_ROOT
#error "LG_HDL_ROOT (the generated bench root, build/hdl) must be defined"
#endif

static uint64_t rng_state;
static uint64_t rnd64()
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static bool chance(int pct) { return (int)(rnd64() % 100) < pct; }
static int32_t sat32(int64_t v) { return lg_sat32(v); }

// ---- bench_data.txt: "key count" then count integers -------------------------

static bool read_key(FILE *f, const char *key, std::vector<int64_t> &out)
{
    char k[64];
    long n;
    if (std::fscanf(f, "%63s %ld", k, &n) != 2 || std::strcmp(k, key) != 0 || n < 0)
        return false;
    out.resize((size_t)n);
    for (long i = 0; i < n; i++)
        if (std::fscanf(f, "%lld", (long long *)&out[(size_t)i]) != 1)
            return false;
    return true;
}

struct NormData {
    int dim = 0, nvec = 0;
    std::vector<uint64_t> eps;          // (18)
    std::vector<std::vector<int16_t>> mant; // (nvec, dim)
    std::vector<lg_qvec> gains;         // (nvec) views of mant
};

static bool load(NormData &d, const char *cfg)
{
    std::string path = std::string(LG_HDL_ROOT) + "/" + cfg + "/bench_data.txt";
    FILE *f = std::fopen(path.c_str(), "r");
    std::vector<int64_t> v, e, g;
    bool ok = f && read_key(f, "dim", v) && v.size() == 1;
    if (ok) {
        d.dim = (int)v[0];
        ok = read_key(f, "nvec", v) && v.size() == 1;
    }
    if (ok) {
        d.nvec = (int)v[0];
        ok = read_key(f, "eps", v) && v.size() == LG_A16_SHIFT_MAX + 1 && read_key(f, "gexp", e) &&
             (int)e.size() == d.nvec && read_key(f, "gain", g) &&
             g.size() == (size_t)d.nvec * d.dim;
    }
    if (f)
        std::fclose(f);
    if (!ok) {
        std::printf("tb_rmsnorm: cannot read %s\n", path.c_str());
        return false;
    }
    d.eps.assign(v.begin(), v.end());
    d.mant.assign(d.nvec, std::vector<int16_t>(d.dim));
    d.gains.resize(d.nvec);
    for (int k = 0; k < d.nvec; k++) {
        for (int i = 0; i < d.dim; i++)
            d.mant[k][i] = (int16_t)g[(size_t)k * d.dim + i];
        d.gains[k].n = d.dim;
        d.gains[k].exp = (int32_t)e[k];
        d.gains[k].mant = d.mant[k].data();
    }
    return true;
}

// ---- stimulus ----------------------------------------------------------------------

static int32_t rnd_q16(int bits) // uniform-ish with |v| < 2^bits
{
    if (bits <= 0)
        return 0;
    int64_t v = (int64_t)(rnd64() >> (64 - bits));
    return sat32(chance(50) ? -v : v);
}

static std::vector<int32_t> make_vector(int kind, int n)
{
    std::vector<int32_t> x(n, 0);
    switch (kind) {
    case 0: // residual stream scale: ~N(0, 1.5) in Q16 (sum of uniforms)
        for (int i = 0; i < n; i++) {
            int64_t s = 0;
            for (int j = 0; j < 4; j++)
                s += (int64_t)(rnd64() >> 46) - (1 << 17);
            x[i] = (int32_t)s;
        }
        break;
    case 1: // all zero: S = EPS[0]
        break;
    case 2: // one +-1: S = 1 + EPS[0]
        x[rnd64() % n] = chance(50) ? 1 : -1;
        break;
    case 3: // saturated: every |m| = 32767, S at its maximum
        for (int i = 0; i < n; i++)
            x[i] = chance(50) ? 0x7fffffff : -0x7fffffff;
        break;
    case 4: // max |x| = 2^31 - 1 and values that round to +-32768 (clamped)
        for (int i = 0; i < n; i++)
            x[i] = (int32_t)(0x7fff8000 + (rnd64() % 0x8000)) * (chance(50) ? 1 : -1);
        x[0] = 0x7fffffff;
        break;
    case 5: // tiny: s = 0
        for (int i = 0; i < n; i++)
            x[i] = rnd_q16(1 + (int)(rnd64() % 15));
        break;
    case 6: // one huge, the rest small
        for (int i = 0; i < n; i++)
            x[i] = rnd_q16(8);
        x[rnd64() % n] = rnd_q16(31);
        break;
    case 9: // some x = -2^31 (s = 17: |x| = 2^31), the rest at a random scale
        {
            int bits = 1 + (int)(rnd64() % 31);
            for (int i = 0; i < n; i++)
                x[i] = chance(10) ? INT32_MIN : rnd_q16(bits);
            x[rnd64() % n] = INT32_MIN;
        }
        break;
    default: // random scale per vector
        {
            int bits = 1 + (int)(rnd64() % 31);
            for (int i = 0; i < n; i++)
                x[i] = rnd_q16(bits);
        }
        break;
    }
    return x;
}

// ---- one instance: stimulus, expectations, handshakes ------------------------------

struct NormPort {
    CData *s_valid, *s_ready, *s_sel;
    IData *s_data;
    CData *m_valid, *m_ready, *m_last, *done;
    const uint32_t *m_data; // VL 32-bit words (IData at VL 1, a VlWide's words above)
};

struct NormBench {
    const char *name;
    const char *cfg; // bench_data.txt directory
    int vl;          // elements per output beat
    int share;       // lean form (mul_share)
    NormData d;
    NormPort p;
    lg_luts *t;
    int full_rate; // vectors run without stalls (cycle count checked)
    int nvec;      // vectors to run
    int promised;  // cycles from the first input handshake to done at full rate
    int nr = 0;    // output beats per vector

    struct Vec {
        std::vector<int32_t> x, want;
        int sel;
    };
    std::deque<Vec> in_q, out_q; // vectors still to send / to receive
    size_t in_pos = 0, out_pos = 0;
    int sent = 0, received = 0;
    bool holding = false; // s_valid asserted and not yet accepted
    uint64_t first_fire = 0;
    bool timing = false;
    uint64_t errors = 0, checked = 0, padded = 0, beats = 0, timed = 0;
    int sh_min = 1000, sh_max = -1000; // output shifts k - e covered
    bool s_fire = false, m_fire = false;
    std::vector<uint32_t> m_data_seen;
    bool m_last_seen = false;

    void setup()
    {
        nr = (d.dim + vl - 1) / vl;
        lg_rmsnorm_unit u = {};
        u.dim = d.dim;
        u.eps_tab = d.eps.data();
        u.mul_share = share;
        promised = lg_rmsnorm_cycles(&u, vl);
        m_data_seen.assign((size_t)vl, 0);
        for (int v = 0; v < nvec; v++) {
            Vec vec;
            int kind = v < full_rate ? 0 : (v - full_rate) % 10;
            vec.x = make_vector(kind, d.dim);
            // Small S with the largest gain exponent gives the left shifts,
            // the first saturated vector (largest S) with gain vector 0 (the
            // smallest exponent in the synthetic sets) the largest shifts.
            vec.sel = (kind == 1 || kind == 2)             ? d.nvec - 1
                      : (kind == 3 && v - full_rate < 10) ? 0
                                                          : (int)(rnd64() % d.nvec);
            vec.want.resize(d.dim);
            lg_ref_rmsnorm(vec.want.data(), vec.x.data(), &d.gains[vec.sel], d.eps.data(), t);
            int sh = out_shift(vec.x, d.gains[vec.sel].exp);
            sh_min = sh < sh_min ? sh : sh_min;
            sh_max = sh > sh_max ? sh : sh_max;
            in_q.push_back(vec);
            out_q.push_back(vec);
        }
    }

    // The output shift k - e of lg_ref_rmsnorm for x (coverage only).
    int out_shift(const std::vector<int32_t> &x, int e) const
    {
        std::vector<int16_t> mm(d.dim);
        int s = lg_ref_actq(mm.data(), x.data(), d.dim);
        uint64_t S = d.eps[s];
        for (int16_t v : mm)
            S += (uint64_t)((int64_t)v * v);
        int k;
        lg_ref_rsqrt(t, S, &k);
        return k - e;
    }

    bool done() const { return out_q.empty(); }
    bool stalls() const { return received >= full_rate; }

    // Drives inputs for this cycle (before settle).
    void drive()
    {
        if (!in_q.empty() && (holding || !stalls() || chance(70))) {
            holding = true;
            *p.s_valid = 1;
            *p.s_data = (uint32_t)in_q.front().x[in_pos];
            *p.s_sel = (CData)(in_pos == 0 ? in_q.front().sel : rnd64() % d.nvec);
        } else {
            *p.s_valid = 0;
            *p.s_data = (uint32_t)rnd64();
            *p.s_sel = (CData)(rnd64() % d.nvec);
        }
        *p.m_ready = !stalls() || chance(70);
    }

    // Samples the handshakes the coming edge will see (after settle).
    void sample()
    {
        s_fire = *p.s_valid && *p.s_ready;
        m_fire = *p.m_valid && *p.m_ready;
        for (int i = 0; i < vl; i++)
            m_data_seen[(size_t)i] = p.m_data[i];
        m_last_seen = *p.m_last;
    }

    // Bookkeeping after the edge (cycle = completed ticks).
    void after_edge(uint64_t cycle)
    {
        if (s_fire) {
            if (in_pos == 0 && sent < full_rate) {
                first_fire = cycle;
                timing = true;
            }
            holding = false;
            if (++in_pos == (size_t)d.dim) {
                in_pos = 0;
                in_q.pop_front();
                sent++;
            }
        }
        if (m_fire) { // beat out_pos: elements out_pos * vl + i
            Vec &v = out_q.front();
            bool last = out_pos + 1 == (size_t)nr;
            beats++;
            if (m_last_seen != last && errors++ < 10)
                std::printf("%s: vector %d beat %zu of %d: m_last %d, want %d\n", name, received,
                            out_pos, nr, (int)m_last_seen, (int)last);
            for (int i = 0; i < vl; i++) {
                size_t e = out_pos * (size_t)vl + (size_t)i;
                int32_t got = (int32_t)m_data_seen[(size_t)i];
                if (e >= (size_t)d.dim) { // padding lane of the last beat: 0
                    padded++;
                    if (got != 0 && errors++ < 10)
                        std::printf("%s: vector %d beat %zu lane %d (padding): got %d, want 0\n",
                                    name, received, out_pos, i, got);
                    continue;
                }
                int32_t want = v.want[e];
                checked++;
                if (got != want && errors++ < 10)
                    std::printf("%s: vector %d (sel %d) element %zu (beat %zu lane %d): got %d, "
                                "want %d\n",
                                name, received, v.sel, e, out_pos, i, got, want);
            }
            if (last) {
                out_pos = 0;
                out_q.pop_front();
                received++;
            } else {
                out_pos++;
            }
        }
        if (*p.done && timing) {
            timing = false;
            uint64_t cycles = cycle - first_fire + 1;
            timed++;
            if (cycles != (uint64_t)promised && errors++ < 10)
                std::printf("%s: vector at full rate took %llu cycles, promised %d\n", name,
                            (unsigned long long)cycles, promised);
            if (timed == 1)
                std::printf("%s: dim %d VL %d (%d beats): %llu cycles first input to done "
                            "(promised %d)\n",
                            name, d.dim, vl, nr, (unsigned long long)cycles, promised);
        }
    }
};

int main(int argc, char **argv)
{
    TESTB<Vdut> tb(argc, argv, "tb_rmsnorm");
    rng_state = tb.plusarg("seed", 1);
    lg_luts t;
    lg_luts_build(&t);
    auto *m = tb.m;

    // name, bench_data dir, VL, vectors; ports below in the same order (a_* .. g_*)
    NormBench nb_all[] = {
        {"rmsnorm_260k", "rmsnorm_260k", 1},        {"rmsnorm_d4096", "rmsnorm_d4096", 1},
        {"rmsnorm_15m", "rmsnorm_15m", 1},          {"rmsnorm_260k_vl16", "rmsnorm_260k", 16},
        {"rmsnorm_15m_vl4", "rmsnorm_15m", 4},      {"rmsnorm_h172_vl16", "rmsnorm_h172", 16},
        {"rmsnorm_h172_vl8", "rmsnorm_h172", 8},    {"rmsnorm_260k_share", "rmsnorm_260k", 1, 1},
        {"rmsnorm_d4096_share", "rmsnorm_d4096", 1, 1},
        {"rmsnorm_h172_vl8_share", "rmsnorm_h172", 8, 1},
        {"rmsnorm_15m_vl4_share", "rmsnorm_15m", 4, 1},
        {"rmsnorm_w64_vl2_share", "rmsnorm_w64", 2, 1},
    };
    const int nvecs[] = {60, 14, 40, 60, 40, 40, 40, 60, 14, 40, 40, 80};
    NormBench &a = nb_all[0], &b = nb_all[1], &c = nb_all[2], &dd = nb_all[3], &e = nb_all[4],
              &f = nb_all[5], &g = nb_all[6], &h = nb_all[7], &ii = nb_all[8],
              &j = nb_all[9], &kk = nb_all[10], &l = nb_all[11];
    a.p = {&m->a_s_valid, &m->a_s_ready, &m->a_s_sel, &m->a_s_data,
           &m->a_m_valid, &m->a_m_ready, &m->a_m_last, &m->a_done, &m->a_m_data};
    b.p = {&m->b_s_valid, &m->b_s_ready, &m->b_s_sel, &m->b_s_data,
           &m->b_m_valid, &m->b_m_ready, &m->b_m_last, &m->b_done, &m->b_m_data};
    c.p = {&m->c_s_valid, &m->c_s_ready, &m->c_s_sel, &m->c_s_data,
           &m->c_m_valid, &m->c_m_ready, &m->c_m_last, &m->c_done, &m->c_m_data};
    dd.p = {&m->d_s_valid, &m->d_s_ready, &m->d_s_sel, &m->d_s_data,
            &m->d_m_valid, &m->d_m_ready, &m->d_m_last, &m->d_done, m->d_m_data.data()};
    e.p = {&m->e_s_valid, &m->e_s_ready, &m->e_s_sel, &m->e_s_data,
           &m->e_m_valid, &m->e_m_ready, &m->e_m_last, &m->e_done, m->e_m_data.data()};
    f.p = {&m->f_s_valid, &m->f_s_ready, &m->f_s_sel, &m->f_s_data,
           &m->f_m_valid, &m->f_m_ready, &m->f_m_last, &m->f_done, m->f_m_data.data()};
    g.p = {&m->g_s_valid, &m->g_s_ready, &m->g_s_sel, &m->g_s_data,
           &m->g_m_valid, &m->g_m_ready, &m->g_m_last, &m->g_done, m->g_m_data.data()};
    h.p = {&m->h_s_valid, &m->h_s_ready, &m->h_s_sel, &m->h_s_data,
           &m->h_m_valid, &m->h_m_ready, &m->h_m_last, &m->h_done, &m->h_m_data};
    ii.p = {&m->i_s_valid, &m->i_s_ready, &m->i_s_sel, &m->i_s_data,
            &m->i_m_valid, &m->i_m_ready, &m->i_m_last, &m->i_done, &m->i_m_data};
    j.p = {&m->j_s_valid, &m->j_s_ready, &m->j_s_sel, &m->j_s_data,
           &m->j_m_valid, &m->j_m_ready, &m->j_m_last, &m->j_done, m->j_m_data.data()};
    kk.p = {&m->k_s_valid, &m->k_s_ready, &m->k_s_sel, &m->k_s_data,
            &m->k_m_valid, &m->k_m_ready, &m->k_m_last, &m->k_done, m->k_m_data.data()};
    l.p = {&m->l_s_valid, &m->l_s_ready, &m->l_s_sel, &m->l_s_data,
           &m->l_m_valid, &m->l_m_ready, &m->l_m_last, &m->l_done, (const uint32_t *)&m->l_m_data};
    static_assert(sizeof(m->j_m_data) == 8 * 4 && sizeof(m->k_m_data) == 4 * 4 &&
                      sizeof(m->l_m_data) == 2 * 4,
                  "m_data widths of the lean VL 8 / 4 instances");
    static_assert(sizeof(m->d_m_data) == 16 * 4 && sizeof(m->e_m_data) == 4 * 4 &&
                      sizeof(m->f_m_data) == 16 * 4 && sizeof(m->g_m_data) == 8 * 4,
                  "m_data widths of the VL 16 / 4 / 16 / 8 instances");
    std::vector<NormBench *> benches;
    int n = 0;
    for (NormBench &nb : nb_all) {
        if (!load(nb.d, nb.cfg))
            return tb.finish(false);
        nb.nvec = nvecs[n++];
        nb.t = &t;
        nb.full_rate = 2;
        nb.setup();
        benches.push_back(&nb);
    }
    // The last beat is ragged at dim 172 (VL 8, 16), full elsewhere.
    if (f.d.dim % f.vl == 0 || g.d.dim % g.vl == 0 || dd.d.dim % dd.vl || e.d.dim % e.vl) {
        std::printf("tb_rmsnorm: unexpected dims %d %d %d %d\n", dd.d.dim, e.d.dim, f.d.dim,
                    g.d.dim);
        return tb.finish(false);
    }

    tb.reset(3);
    uint64_t limit = 2000000;
    auto all_done = [&] {
        for (NormBench *nb : benches)
            if (!nb->done())
                return false;
        return true;
    };
    while (!all_done() && tb.cycle < limit) {
        for (NormBench *nb : benches)
            nb->drive();
        tb.settle();
        for (NormBench *nb : benches)
            nb->sample();
        tb.tick();
        for (NormBench *nb : benches)
            nb->after_edge(tb.cycle);
    }
    bool ok = true;
    for (NormBench *nb : benches) {
        std::printf("%s: VL %d, %d vectors, %llu beats, %llu outputs + %llu padding lanes "
                    "checked, output shifts %d..%d, %llu full-rate timings, %llu errors\n",
                    nb->name, nb->vl, nb->received, (unsigned long long)nb->beats,
                    (unsigned long long)nb->checked, (unsigned long long)nb->padded, nb->sh_min,
                    nb->sh_max, (unsigned long long)nb->timed, (unsigned long long)nb->errors);
        ok &= nb->errors == 0 && nb->done() && nb->timed == (uint64_t)nb->full_rate &&
              nb->checked == (uint64_t)nb->nvec * nb->d.dim &&
              nb->padded == (uint64_t)nb->nvec * (nb->nr * nb->vl - nb->d.dim);
    }
    // rmsnorm_d4096 is there for the extremes: left shifts and shifts past 30.
    // The lean d4096 instance also covers r <= -16 (0 or saturation) and r > 47.
    for (NormBench *x : {&b, &ii})
        if (x->sh_min >= 0 || x->sh_max <= 30) {
            std::printf("%s: output shifts %d..%d miss the extremes\n", x->name, x->sh_min,
                        x->sh_max);
            ok = false;
        }
    if (l.sh_min > -16 || l.sh_max < 48) {
        std::printf("%s: output shifts %d..%d miss -16 and 48\n", l.name, l.sh_min, l.sh_max);
        ok = false;
    }
    return tb.finish(ok);
}
