// tb_embed: the embedding lookup (lg_embed) against its C twin lg_ref_embed.
//
// The model (tb_embed_top, verilated with --prefix Vdut) holds three
// instances (tests/hdl/gen_mem_units.c):
//   a  the 260k synthetic model's embedding: 512 x 64, G 32
//   b  37 x 40, G 16 (ragged 16 + 16 + 8), ebase -30: right shifts 1..30,
//      rounding and all-zero groups
//   c  the same table with ebase +8: left shifts 24..39, +-saturation
// Each table is read back from bench_data.txt (what the generator emitted),
// and every row is requested (in order, then random ids) with random gaps
// on s_tok and random backpressure on m_x; every element must equal
// lg_ref_embed, m_x_last must mark the row end, valid must hold and data
// stay stable while stalled. Out-of-range ids (vocab, vocab + 1, 2^k,
// 0xffffffff) must set err_oob, produce no output, and leave the next row
// intact; the next valid id clears err_oob. Stall-free, the first element
// must come LG_EMBED_LATENCY cycles after the token handshake and the last
// lg_embed_row_cycles after it, with the next token taken the cycle after.
// Plusargs: +seed=N (default 1), +trace[=FILE].
#include "Vdut.h"
#include "embed_table.h"
#include "testb.h"

extern "C" {
#include "llamagen/emit_mem.h"
#include "llamagen/ref.h"
}

#include <cstdio>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

typedef TESTB<Vdut> TB;

static std::mt19937_64 rng;
static bool chance(int pct) { return (int)(rng() % 100) < pct; }
static int errors = 0;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            if (errors++ < 20) {                                                             \
                std::printf("FAIL %s:%d: ", __FILE__, __LINE__);                           \
                std::printf(__VA_ARGS__);                                                    \
                std::printf("\n");                                                           \
            }                                                                                \
        }                                                                                    \
    } while (0)

// ---- one instance's ports --------------------------------------------------------

struct Io {
    virtual ~Io() {}
    virtual void tok(bool v, uint32_t id) = 0;
    virtual void ready(bool r) = 0;
    virtual bool tok_ready() = 0;
    virtual bool valid() = 0;
    virtual int32_t data() = 0;
    virtual bool last() = 0;
    virtual bool err() = 0;
};

#define IO_CLASS(P)                                                                          \
    struct Io_##P : Io {                                                                     \
        Vdut *m;                                                                    \
        explicit Io_##P(Vdut *mm) : m(mm) {}                                        \
        void tok(bool v, uint32_t id) override                                               \
        {                                                                                    \
            m->P##_s_valid = v;                                                              \
            m->P##_s_data = id;                                                              \
        }                                                                                    \
        void ready(bool r) override { m->P##_m_ready = r; }                                  \
        bool tok_ready() override { return m->P##_s_ready; }                                 \
        bool valid() override { return m->P##_m_valid; }                                    \
        int32_t data() override { return (int32_t)m->P##_m_data; }                           \
        bool last() override { return m->P##_m_last; }                                       \
        bool err() override { return m->P##_err; }                                           \
    };

IO_CLASS(a)
IO_CLASS(b)
IO_CLASS(c)

// ---- runs ---------------------------------------------------------------------------

// Requests `ids` in order; gap_pct: chance of no token offered in a cycle,
// ready_pct: chance of m_x_ready high. timing: check the stated latencies
// (use with gap 0, ready 100).
static void run(TB &tb, Io &io, const Table &t, const std::vector<uint32_t> &ids, int gap_pct,
                int ready_pct, bool timing, const char *what)
{
    lg_embed_params p;
    lg_embed_params_from_qmat(&p, &t.m, "emb.hex");
    std::deque<std::vector<int32_t>> rows; // expected rows not yet fully out
    std::deque<uint64_t> hs_cycle;         // handshake cycle of each row in rows
    size_t next = 0, pos = 0, outs = 0;
    bool offering = false, prev_stall = false, err_exp = io.err();
    int32_t prev_data = 0;
    uint64_t last_row_end = 0, limit = tb.cycle + 400 + (uint64_t)ids.size() * 20 * (t.m.cols + 8);
    while ((next < ids.size() || !rows.empty()) && tb.cycle < limit) {
        // drive: a token once offered stays offered until taken
        if (!offering && next < ids.size() && !chance(gap_pct))
            offering = true;
        io.tok(offering, offering ? ids[next] : 0);
        bool rdy = chance(ready_pct);
        io.ready(rdy);
        tb.settle();
        CHECK(io.err() == err_exp, "%s: err_oob %d, expected %d (cycle %llu)", what, io.err(),
              err_exp, (unsigned long long)tb.cycle);
        // output side
        bool v = io.valid();
        if (prev_stall) {
            CHECK(v, "%s: valid dropped while stalled", what);
            CHECK(io.data() == prev_data, "%s: data changed while stalled", what);
        }
        if (v) {
            CHECK(!rows.empty(), "%s: output without a token", what);
            if (!rows.empty()) {
                const std::vector<int32_t> &r = rows.front();
                if (io.data() != r[pos])
                    CHECK(false, "%s: row %zu element %zu: %d != %d", what, outs, pos,
                          io.data(), r[pos]);
                CHECK(io.last() == (pos + 1 == r.size()), "%s: m_x_last %d at element %zu",
                      what, io.last(), pos);
                if (timing && pos == 0)
                    CHECK(tb.cycle - hs_cycle.front() == LG_EMBED_LATENCY,
                          "%s: first element %llu cycles after the token", what,
                          (unsigned long long)(tb.cycle - hs_cycle.front()));
            }
            prev_data = io.data();
        }
        bool fire = v && rdy;
        prev_stall = v && !fire;
        if (fire && !rows.empty() && ++pos == rows.front().size()) {
            if (timing)
                CHECK(tb.cycle - hs_cycle.front() == (uint64_t)lg_embed_row_cycles(&p),
                      "%s: last element %llu cycles after the token, header says %lld", what,
                      (unsigned long long)(tb.cycle - hs_cycle.front()),
                      (long long)lg_embed_row_cycles(&p));
            rows.pop_front();
            hs_cycle.pop_front();
            pos = 0;
            outs++;
            last_row_end = tb.cycle;
        }
        // input side
        if (offering && io.tok_ready()) {
            uint32_t id = ids[next++];
            offering = false;
            if (timing && outs > 0 && rows.empty())
                CHECK(tb.cycle - last_row_end == 1, "%s: next token %llu cycles after the row",
                      what, (unsigned long long)(tb.cycle - last_row_end));
            if (id < (uint32_t)t.m.rows) {
                std::vector<int32_t> r((size_t)t.m.cols);
                lg_ref_embed(r.data(), &t.m, (int)id);
                rows.push_back(r);
                hs_cycle.push_back(tb.cycle);
                err_exp = false;
            } else {
                err_exp = true;
            }
        }
        tb.tick();
    }
    CHECK(next == ids.size() && rows.empty(), "%s: timeout (%zu of %zu ids, %zu rows pending)",
          what, next, ids.size(), rows.size());
    // nothing more may come out
    io.tok(false, 0);
    io.ready(true);
    for (int i = 0; i < 2 * t.m.cols; i++) {
        tb.settle();
        CHECK(!io.valid(), "%s: extra output", what);
        tb.tick();
    }
    std::printf("%s: %zu ids, %zu rows compared", what, ids.size(), outs);
    if (timing)
        std::printf(" (latency checked: first element %d, last %lld cycles after the token)",
                    LG_EMBED_LATENCY, (long long)lg_embed_row_cycles(&p));
    std::printf("\n");
}

static void test_table(TB &tb, Io &io, const Table &t, const char *name)
{
    uint32_t V = (uint32_t)t.m.rows;
    uint32_t pow2 = 1;
    while (pow2 < V)
        pow2 <<= 1;
    std::vector<uint32_t> all, mixed, timing;
    for (uint32_t i = 0; i < V; i++)
        all.push_back(i);
    // out-of-range ids between valid ones, back to back too
    const uint32_t bad[] = {V, V + 1, pow2, pow2 - 1 >= V ? pow2 - 1 : V + 2, 0xffffffffu,
                            0x80000000u};
    for (int k = 0; k < 60; k++) {
        mixed.push_back((uint32_t)(rng() % V));
        if (k % 5 == 0)
            mixed.push_back(bad[k / 5 % 6]);
        if (k % 17 == 0) {
            mixed.push_back(bad[(k + 1) % 6]);
            mixed.push_back(bad[(k + 2) % 6]);
        }
    }
    mixed.push_back(V - 1);
    for (int k = 0; k < 6; k++)
        timing.push_back((uint32_t)(rng() % V));
    std::string n = name;
    run(tb, io, t, all, 30, 70, false, (n + " all rows").c_str());
    run(tb, io, t, mixed, 20, 50, false, (n + " random + out of range").c_str());
    run(tb, io, t, timing, 0, 100, true, (n + " stall-free").c_str());
}

int main(int argc, char **argv)
{
    TB tb(argc, argv, "tb_embed");
    rng.seed(tb.plusarg("seed", 1));
    Table ta, tb_, tc;
    if (!load_table(ta, "embed_260k") || !load_table(tb_, "embed_neg") ||
        !load_table(tc, "embed_sat"))
        return tb.finish(false);
    Io_a a(tb.m);
    Io_b b(tb.m);
    Io_c c(tb.m);
    Io *all[3] = {&a, &b, &c};
    for (Io *io : all) {
        io->tok(false, 0);
        io->ready(false);
    }
    tb.reset(4);
    for (Io *io : all)
        CHECK(!io->err() && !io->valid() && io->tok_ready(), "state after reset");

    // the saturating table must really saturate, the negative one round to 0
    int sat = 0, zero = 0;
    std::vector<int32_t> r(40);
    for (int id = 0; id < 37; id++) {
        lg_ref_embed(r.data(), &tc.m, id);
        for (int32_t x : r)
            sat += x == 0x7fffffff || x == -0x7fffffff;
        lg_ref_embed(r.data(), &tb_.m, id);
        for (int32_t x : r)
            zero += x == 0;
    }
    CHECK(sat > 100 && zero > 100, "fixtures: %d saturated, %d zero elements", sat, zero);

    test_table(tb, a, ta, "a(260k)");
    test_table(tb, b, tb_, "b(ebase -30)");
    test_table(tb, c, tc, "c(ebase +8)");
    if (errors)
        std::printf("tb_embed: %d errors\n", errors);
    return tb.finish(errors == 0);
}
