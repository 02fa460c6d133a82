// Bench for lg_kvcache (through tb_attn_top with sel = 1, the cache's read
// side on the bench's ports): random rows written at random (layer, pos) on
// the K and V write ports at once, with random valid gaps, then read back by
// random row-range requests on both read ports with random backpressure;
// every mantissa and exponent is compared with the C twin lg_ref_kv_quant,
// and every beat's last flag. Values cover every exponent (group maxima of
// every bit length, -2^31 and 2^31-1 included), zeros and rounding edges.
// Checks the header's cycles without stalls (write done latency, a K and a
// V row offered together (lg_kvcache_pair_cycles: under mul_share the shared
// quantizer takes the V row after the K row), read latency, one beat per
// cycle), the error flag of out-of-range writes
// (pos >= SEQ_LEN, pos = 2^32-1, layer >= LAYERS) and reads, and that such a
// write corrupts nothing.
//
// Built per configuration against the model of tb_attn_top (--prefix Vdut),
// with the configuration's tb_cfg.h. Plusargs: +seed=N, +trace[=FILE].
#include "Vdut.h"
#include "tb_cfg.h"
#include "testb.h"

extern "C" {
#include "llamagen/emit_attn.h"
#include "llamagen/ref.h"
}

#include <cinttypes>
#include <deque>
#include <random>
#include <vector>

typedef TESTB<Vdut> TB;

#ifndef TB_MUL_SHARE
#define TB_MUL_SHARE 0
#endif
static const lg_attn_params P = {TB_HEAD_SIZE, TB_N_HEADS, TB_N_KV_HEADS, TB_LAYERS, TB_SEQ_LEN,
                                 TB_KV_BITS,   TB_KV_GROUP, TB_LANES,     TB_SCORE_C,
                                 TB_KV_PORTS,  TB_QV_MAX,   TB_MUL_SHARE};
static const int KV_DIM = TB_HEAD_SIZE * TB_N_KV_HEADS;
static const int NGROUPS = KV_DIM / TB_KV_GROUP;

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

// ---- expected contents ------------------------------------------------------------------

struct Row {
    uint32_t layer, pos;
    std::vector<int32_t> x; // (KV_DIM) Q16
};

struct Cache {
    std::vector<int16_t> mant[2]; // (layers, seq, kv_dim), K and V
    std::vector<uint8_t> expo[2]; // (layers, seq, ngroups)
    std::vector<char> written[2]; // (layers, seq)
    Cache()
    {
        for (int k = 0; k < 2; k++) {
            mant[k].assign((size_t)TB_LAYERS * TB_SEQ_LEN * KV_DIM, 0);
            expo[k].assign((size_t)TB_LAYERS * TB_SEQ_LEN * NGROUPS, 0);
            written[k].assign((size_t)TB_LAYERS * TB_SEQ_LEN, 0);
        }
    }
    void store(int k, const Row &r)
    {
        size_t row = (size_t)r.layer * TB_SEQ_LEN + r.pos;
        lg_ref_kv_quant(&mant[k][row * KV_DIM], &expo[k][row * NGROUPS], r.x.data(), KV_DIM,
                        TB_KV_GROUP, TB_KV_BITS);
        written[k][row] = 1;
    }
};

// A Q16 row whose groups have maxima of random bit lengths, with edge values.
static Row random_row(std::mt19937_64 &rng, uint32_t layer, uint32_t pos)
{
    Row r{layer, pos, std::vector<int32_t>((size_t)KV_DIM)};
    for (int g = 0; g < NGROUPS; g++) {
        int bits = (int)(rng() % 33); // 0..32 magnitude bits
        int kind = (int)(rng() % 16);
        for (int i = 0; i < TB_KV_GROUP; i++) {
            int64_t v;
            if (bits == 0) {
                v = 0;
            } else {
                int64_t lim = bits >= 32 ? (int64_t)LG_SAT32 : ((int64_t)1 << bits) - 1;
                v = (int64_t)(rng() % (uint64_t)(2 * lim + 1)) - lim;
            }
            // rounding edges: odd multiples of half a step at the group's exponent
            if (kind == 1 && bits > 8)
                v = (((int64_t)(rng() % 64) * 2 + 1) << (bits - 8)) * ((rng() & 1) ? 1 : -1);
            r.x[(size_t)(g * TB_KV_GROUP + i)] = (int32_t)v;
        }
        if (kind == 2)
            r.x[(size_t)(g * TB_KV_GROUP + (int)(rng() % TB_KV_GROUP))] = INT32_MIN;
        if (kind == 3)
            r.x[(size_t)(g * TB_KV_GROUP + (int)(rng() % TB_KV_GROUP))] = INT32_MAX;
        // the group's max magnitude from a negative power of two (-2^(bits-1),
        // the others below it): |x| = 2^k is where ~x has a shorter bit length
        if (kind == 4 && bits >= 1 && bits <= 31) {
            for (int i = 0; i < TB_KV_GROUP; i++)
                r.x[(size_t)(g * TB_KV_GROUP + i)] /= 2;
            r.x[(size_t)(g * TB_KV_GROUP + (int)(rng() % TB_KV_GROUP))] =
                (int32_t)-((int64_t)1 << (bits - 1));
        }
    }
    return r;
}

// ---- write driver ------------------------------------------------------------------------

struct Writer {
    std::deque<Row> rows[2];
    size_t idx[2] = {0, 0};
    bool have[2] = {false, false};
    int idle_pct = 0;
    uint64_t last_hs[2] = {0, 0}; // cycle of the latest last-element handshake
    uint64_t first_hs[2] = {0, 0}; // cycle of the first element handshake of the first row
    uint64_t last_done[2] = {0, 0}; // cycle of the latest done pulse
    long taken[2] = {0, 0}; // elements handed over
    int dones[2] = {0, 0};
    std::vector<uint64_t> done_lat[2]; // done cycle - last handshake cycle (no stalls)
    // mul_share: a port holds its row's layer and pos from the first element
    // until the row's done (the cache reads them live) and offers no next
    // row meanwhile
    bool hold[2] = {false, false};
    uint32_t hold_layer[2] = {0, 0}, hold_pos[2] = {0, 0};

    bool busy() const { return !rows[0].empty() || !rows[1].empty(); }

    // Drives the write ports for this cycle (before settle).
    void drive(Vdut *m, std::mt19937_64 &rng)
    {
        for (int k = 0; k < 2; k++) {
            bool row_open = TB_MUL_SHARE && hold[k] && idx[k] == 0; // last row not done
            if (!have[k] && !rows[k].empty() && !row_open && (int)(rng() % 100) >= idle_pct)
                have[k] = true;
            const Row *r = rows[k].empty() ? nullptr : &rows[k].front();
            uint32_t data = have[k] ? (uint32_t)r->x[idx[k]] : (uint32_t)rng();
            uint32_t layer = r ? r->layer : 0, pos = r ? r->pos : 0;
            if (TB_MUL_SHARE && hold[k]) {
                layer = hold_layer[k];
                pos = hold_pos[k];
            } else if (!have[k]) { // not valid: layer and pos must be ignored too
                layer = (uint32_t)(rng() % TB_LAYERS);
                pos = (uint32_t)rng();
            }
            if (k == 0) {
                m->kw_k_valid = have[k];
                m->kw_k_data = data;
                m->kw_k_layer = layer;
                m->kw_k_pos = pos;
            } else {
                m->kw_v_valid = have[k];
                m->kw_v_data = data;
                m->kw_v_layer = layer;
                m->kw_v_pos = pos;
            }
        }
    }

    // Samples the handshakes (after settle, before tick).
    void sample(Vdut *m, uint64_t cycle, Cache *model)
    {
        bool ready[2] = {(bool)m->kw_k_ready, (bool)m->kw_v_ready};
        bool done[2] = {(bool)m->k_done, (bool)m->v_done};
        for (int k = 0; k < 2; k++) {
            if (done[k]) {
                hold[k] = false;
                dones[k]++;
                done_lat[k].push_back(cycle - last_hs[k]);
                last_done[k] = cycle;
            }
            if (have[k] && ready[k]) {
                if (taken[k]++ == 0)
                    first_hs[k] = cycle;
                if (idx[k] == 0) {
                    hold[k] = true;
                    hold_layer[k] = rows[k].front().layer;
                    hold_pos[k] = rows[k].front().pos;
                }
                have[k] = false;
                if (++idx[k] == (size_t)KV_DIM) {
                    const Row &r = rows[k].front();
                    if (model && r.pos < (uint32_t)TB_SEQ_LEN && r.layer < (uint32_t)TB_LAYERS)
                        model->store(k, r);
                    rows[k].pop_front();
                    idx[k] = 0;
                    last_hs[k] = cycle;
                }
            }
        }
    }
};

// Runs the writer until every row is written and done (or a timeout).
static void write_all(TB &tb, std::mt19937_64 &rng, Writer &w, Cache *model, int expect_dones[2])
{
    Vdut *m = tb.m;
    // (the lean quantizer: about done_latency / kv_group cycles an element)
    uint64_t per = 20 + (uint64_t)(lg_kvcache_done_latency(&P) / TB_KV_GROUP);
    uint64_t limit = tb.cycle + 100000 + per * (w.rows[0].size() + w.rows[1].size()) * KV_DIM;
    while ((w.busy() || w.dones[0] < expect_dones[0] || w.dones[1] < expect_dones[1]) &&
           tb.cycle < limit) {
        w.drive(m, rng);
        tb.settle();
        w.sample(m, tb.cycle, model);
        tb.tick();
    }
    // a few more cycles: no spurious done
    for (int i = 0; i < 2 * TB_KV_GROUP + 8; i++) {
        w.drive(m, rng);
        tb.settle();
        w.sample(m, tb.cycle, model);
        tb.tick();
    }
    CHECK(!w.busy(), "write timed out");
    for (int k = 0; k < 2; k++)
        CHECK(w.dones[k] == expect_dones[k], "%s done pulses %d, expected %d", k ? "V" : "K",
              w.dones[k], expect_dones[k]);
}

// ---- read driver -------------------------------------------------------------------------

struct Req {
    uint32_t layer, head, first, last;
};

static const int BEAT = lg_attn_beat(&P);
static const int NGB = BEAT > TB_KV_GROUP ? BEAT / TB_KV_GROUP : 1;
static const int HB = TB_HEAD_SIZE / BEAT;

// A port's value as 32-bit words, low first (Verilator: up to 64 bits as an
// integer, wider as VlWide).
static void grab(std::vector<uint32_t> &w, uint64_t v)
{
    w.push_back((uint32_t)v);
    w.push_back((uint32_t)(v >> 32));
}
template <std::size_t N> static void grab(std::vector<uint32_t> &w, const VlWide<N> &v)
{
    for (std::size_t i = 0; i < N; i++)
        w.push_back(v[i]);
}

// Issues the requests on both read ports and checks every beat against the
// model. Returns the number of beats compared. With a writer, its rows are
// written meanwhile (into wmodel; they must not be among the rows read).
static long read_check(TB &tb, std::mt19937_64 &rng, const Cache &c, std::deque<Req> reqs[2],
                       int req_idle, int stall_pct, bool bad = false, Writer *wr = nullptr,
                       Cache *wmodel = nullptr)
{
    Vdut *m = tb.m;
    std::deque<Req> pending[2]; // accepted, beats outstanding
    uint32_t row[2] = {0, 0}, beat[2] = {0, 0};
    long compared = 0;
    bool prev_stall[2] = {false, false};
    std::vector<uint32_t> prev_sig[2];
    bool have_req[2] = {false, false};
    // mul_share: a port holds an accepted request's fields until its ready
    // rises again (the cache reads them live) and offers no other meanwhile
    bool rq_hold[2] = {false, false};
    Req held[2] = {Req{0, 0, 0, 0}, Req{0, 0, 0, 0}};
    uint64_t limit = tb.cycle + 200000;
    for (int k = 0; k < 2; k++)
        for (const Req &r : reqs[k])
            limit += (uint64_t)(r.last - r.first + 1) * HB * 8;
    if (wr)
        limit += (20 + (uint64_t)(lg_kvcache_done_latency(&P) / TB_KV_GROUP)) *
                 (uint64_t)(wr->rows[0].size() + wr->rows[1].size()) * KV_DIM;
    while ((!reqs[0].empty() || !reqs[1].empty() || !pending[0].empty() ||
            !pending[1].empty() || (wr && wr->busy())) &&
           tb.cycle < limit) {
        if (wr)
            wr->drive(m, rng);
        for (int k = 0; k < 2; k++) {
            if (!have_req[k] && !reqs[k].empty() && !rq_hold[k] &&
                (int)(rng() % 100) >= req_idle)
                have_req[k] = true;
            Req r = reqs[k].empty() ? Req{0, 0, 0, 0} : reqs[k].front();
            if (rq_hold[k])
                r = held[k];
            bool ready = (int)(rng() % 100) >= stall_pct;
            if (k == 0) {
                m->rq_k_valid = have_req[k];
                m->rq_k_layer = r.layer;
                m->rq_k_head = r.head;
                m->rq_k_first = r.first;
                m->rq_k_last = r.last;
                m->rd_k_ready = ready;
            } else {
                m->rq_v_valid = have_req[k];
                m->rq_v_layer = r.layer;
                m->rq_v_head = r.head;
                m->rq_v_first = r.first;
                m->rq_v_last = r.last;
                m->rd_v_ready = ready;
            }
        }
        tb.settle();
        if (wr)
            wr->sample(m, tb.cycle, wmodel);
        for (int k = 0; k < 2; k++) {
            bool rq_ready = k ? m->rq_v_ready : m->rq_k_ready;
            bool valid = k ? m->rd_v_valid : m->rd_k_valid;
            bool ready = k ? m->rd_v_ready : m->rd_k_ready;
            bool last = k ? m->rd_v_last : m->rd_k_last;
            std::vector<uint32_t> words;
            if (k)
                grab(words, m->rd_v_mant);
            else
                grab(words, m->rd_k_mant);
            uint64_t ex = (uint64_t)(k ? m->rd_v_exp : m->rd_k_exp);
            std::vector<uint32_t> sig = words;
            sig.push_back((uint32_t)ex);
            sig.push_back(last);
            if (prev_stall[k])
                CHECK(valid && sig == prev_sig[k],
                      "%s read beat changed while stalled (cycle %" PRIu64 ")", k ? "V" : "K",
                      tb.cycle);
            prev_stall[k] = valid && !ready;
            prev_sig[k] = sig;

            if (valid && ready) {
                if (pending[k].empty()) {
                    CHECK(false, "%s beat without a request (cycle %" PRIu64 ")", k ? "V" : "K",
                          tb.cycle);
                    continue;
                }
                const Req &r = pending[k].front();
                uint32_t t = r.first + row[k];
                size_t crow = (size_t)r.layer * TB_SEQ_LEN + t;
                int e0 = (int)r.head * TB_HEAD_SIZE + (int)beat[k] * BEAT;
                bool is_last = t == r.last && beat[k] == (uint32_t)HB - 1;
                CHECK(last == is_last, "%s last flag %d at layer %u head %u row %u beat %u",
                      k ? "V" : "K", last, r.layer, r.head, t, beat[k]);
                if (c.written[k][crow]) {
                    for (int i = 0; i < BEAT; i++) {
                        int bit = i * TB_KV_BITS;
                        uint64_t raw = 0;
                        for (int b = 0; b < TB_KV_BITS; b++) {
                            int pb = bit + b;
                            raw |= (uint64_t)((words[(size_t)(pb / 32)] >> (pb % 32)) & 1) << b;
                        }
                        int64_t got = (int64_t)(raw << (64 - TB_KV_BITS)) >> (64 - TB_KV_BITS);
                        int16_t exp_m = c.mant[k][crow * KV_DIM + (size_t)(e0 + i)];
                        CHECK(got == exp_m,
                              "%s mantissa layer %u head %u row %u elem %d: got %" PRId64
                              " expected %d",
                              k ? "V" : "K", r.layer, r.head, t, e0 + i, got, exp_m);
                    }
                    for (int j = 0; j < NGB; j++) {
                        int grp = e0 / TB_KV_GROUP + j;
                        int got = (int)((ex >> (5 * j)) & 31);
                        int exp_e = c.expo[k][crow * NGROUPS + (size_t)grp];
                        CHECK(got == exp_e,
                              "%s exponent layer %u head %u row %u group %d: got %d expected %d",
                              k ? "V" : "K", r.layer, r.head, t, grp, got, exp_e);
                    }
                    compared++;
                }
                if (++beat[k] == (uint32_t)HB) {
                    beat[k] = 0;
                    if (t == r.last) {
                        pending[k].pop_front();
                        row[k] = 0;
                    } else {
                        row[k]++;
                    }
                }
            }
            if (rq_hold[k] && rq_ready)
                rq_hold[k] = false;
            if (have_req[k] && rq_ready) {
                if (TB_MUL_SHARE) {
                    rq_hold[k] = true;
                    held[k] = reqs[k].front();
                }
                if (!bad)
                    pending[k].push_back(reqs[k].front());
                reqs[k].pop_front();
                have_req[k] = false;
            }
        }
        tb.tick();
    }
    m->rq_k_valid = m->rq_v_valid = 0;
    CHECK(reqs[0].empty() && reqs[1].empty() && pending[0].empty() && pending[1].empty(),
          "read timed out");
    return compared;
}

// ---- main --------------------------------------------------------------------------------

int main(int argc, char **argv)
{
    TB tb(argc, argv, "tb_kvcache");
    Vdut *m = tb.m;
    std::mt19937_64 rng(tb.plusarg("seed", 1));
    Cache model;
    lg_err err = {{0}};
    if (lg_attn_check(&P, &err)) {
        std::printf("bad configuration: %s\n", err.msg);
        return 1;
    }
    std::printf("tb_kvcache: layers %d seq %d kv_dim %d group %d bits %d beat %d\n", TB_LAYERS,
                TB_SEQ_LEN, KV_DIM, TB_KV_GROUP, TB_KV_BITS, BEAT);
    // every input driven (randReset(2) randomizes undriven ones)
    m->sel = 1;
    m->gate = 0xf;
    m->start = 0;
    m->start_layer = 0;
    m->start_pos = 0;
    m->q_valid = 0;
    m->q_data = 0;
    m->out_ready = 1;
    m->kw_k_valid = m->kw_v_valid = 0;
    m->rq_k_valid = m->rq_v_valid = 0;
    m->rd_k_ready = m->rd_v_ready = 0;
    tb.reset(4);
    CHECK(!m->kv_err, "err set after reset");

    // 1. Cycles without stalls: one row per port, then a one-row read.
    {
        Writer w;
        w.rows[0].push_back(random_row(rng, 0, 0));
        w.rows[1].push_back(random_row(rng, 0, 0));
        int ed[2] = {1, 1};
        write_all(tb, rng, w, &model, ed);
        for (int k = 0; k < 2; k++)
            CHECK(!w.done_lat[k].empty() &&
                      w.done_lat[k][0] == (uint64_t)lg_kvcache_done_latency(&P),
                  "%s write done %" PRIu64 " cycles after the last element, header says %d",
                  k ? "V" : "K", w.done_lat[k].empty() ? 0 : w.done_lat[k][0],
                  lg_kvcache_done_latency(&P));
        // both rows were offered from the same cycle, without gaps
        CHECK(w.first_hs[0] == w.first_hs[1] || (TB_MUL_SHARE && w.first_hs[0] < w.first_hs[1]),
              "first handshakes K %" PRIu64 " V %" PRIu64, w.first_hs[0], w.first_hs[1]);
        CHECK(w.last_done[1] - w.first_hs[0] == (uint64_t)lg_kvcache_pair_cycles(&P),
              "K+V rows: V done %" PRIu64 " cycles after the first element, header says %d",
              w.last_done[1] - w.first_hs[0], lg_kvcache_pair_cycles(&P));
        // read latency: request handshake -> first beat valid
        m->rq_k_valid = 1;
        m->rq_k_layer = 0;
        m->rq_k_head = 0;
        m->rq_k_first = 0;
        m->rq_k_last = 0;
        m->rd_k_ready = 1;
        tb.settle();
        CHECK(m->rq_k_ready, "idle read port not ready");
        uint64_t t0 = tb.cycle;
        tb.tick();
        m->rq_k_valid = 0;
        tb.settle();
        while (!m->rd_k_valid && tb.cycle < t0 + 50) {
            tb.tick();
            tb.settle();
        }
        CHECK(tb.cycle - t0 == (uint64_t)lg_kvcache_read_latency(&P),
              "first read beat %" PRIu64 " cycles after the request, header says %d",
              tb.cycle - t0, lg_kvcache_read_latency(&P));
        for (int i = 0; i < 8; i++)
            tb.tick();
    }

    // 2. Random rows at random positions on both ports, random gaps.
    int nrows = TB_LAYERS * TB_SEQ_LEN < 160 ? TB_LAYERS * TB_SEQ_LEN : 160;
    {
        Writer w;
        w.idle_pct = 30;
        for (int i = 0; i < nrows; i++)
            for (int k = 0; k < 2; k++)
                w.rows[k].push_back(random_row(rng, (uint32_t)(rng() % TB_LAYERS),
                                               (uint32_t)(rng() % TB_SEQ_LEN)));
        // every layer's last and first positions too
        for (int l = 0; l < TB_LAYERS; l++)
            for (int k = 0; k < 2; k++) {
                w.rows[k].push_back(random_row(rng, (uint32_t)l, 0));
                w.rows[k].push_back(random_row(rng, (uint32_t)l, (uint32_t)TB_SEQ_LEN - 1));
            }
        int ed[2] = {(int)w.rows[0].size(), (int)w.rows[1].size()};
        write_all(tb, rng, w, &model, ed);
        CHECK(!m->kv_err, "err set by valid writes");
    }

    // 3. Read back everything (full ranges per head) with random stalls, plus
    // random sub-ranges; K and V ports run concurrently.
    auto full_read = [&](int stall) {
        std::deque<Req> reqs[2];
        for (int k = 0; k < 2; k++) {
            for (int l = 0; l < TB_LAYERS; l++)
                for (int h = 0; h < TB_N_KV_HEADS; h++)
                    reqs[k].push_back(Req{(uint32_t)l, (uint32_t)h, 0, (uint32_t)TB_SEQ_LEN - 1});
            for (int i = 0; i < 20; i++) {
                uint32_t a = (uint32_t)(rng() % TB_SEQ_LEN), b = (uint32_t)(rng() % TB_SEQ_LEN);
                reqs[k].push_back(Req{(uint32_t)(rng() % TB_LAYERS),
                                      (uint32_t)(rng() % TB_N_KV_HEADS), a < b ? a : b,
                                      a < b ? b : a});
            }
        }
        return read_check(tb, rng, model, reqs, 20, stall);
    };
    long beats = full_read(30);
    CHECK(beats > 0, "no beat compared");
    CHECK(!m->kv_err, "err set by valid traffic");

    // 4. Full rate: a whole-head read without stalls takes one beat per cycle.
    {
        std::deque<Req> reqs[2];
        reqs[0].push_back(Req{0, 0, 0, (uint32_t)TB_SEQ_LEN - 1});
        uint64_t t0 = tb.cycle;
        read_check(tb, rng, model, reqs, 0, 0);
        uint64_t cyc = tb.cycle - t0, nbeats = (uint64_t)TB_SEQ_LEN * HB;
        CHECK(cyc <= nbeats + (uint64_t)lg_kvcache_read_latency(&P) + 1,
              "%" PRIu64 " beats took %" PRIu64 " cycles", nbeats, cyc);
    }

    // 5. Bad read requests: first > last (and out-of-range fields where the
    // port is wide enough to carry them): no beats, err set.
    {
        std::deque<Req> reqs[2];
        if (TB_SEQ_LEN > 1)
            reqs[0].push_back(Req{0, 0, 1, 0});
        if ((TB_SEQ_LEN & (TB_SEQ_LEN - 1)) != 0)
            reqs[1].push_back(Req{0, 0, 0, (uint32_t)TB_SEQ_LEN});
        if ((TB_N_KV_HEADS & (TB_N_KV_HEADS - 1)) != 0)
            reqs[1].push_back(Req{0, (uint32_t)TB_N_KV_HEADS, 0, 0});
        if (!reqs[0].empty() || !reqs[1].empty()) {
            read_check(tb, rng, model, reqs, 0, 0, true);
            for (int i = 0; i < 10; i++) {
                tb.settle();
                CHECK(!m->rd_k_valid && !m->rd_v_valid, "beat after a bad request");
                tb.tick();
            }
            CHECK(m->kv_err, "err not set by a bad read request");
            tb.reset(2);
            CHECK(!m->kv_err, "err not cleared by rst");
        }
    }

    // 6. Out-of-range writes: consumed, err set, done still pulses, and no
    // row of the cache changes.
    {
        Writer w;
        w.idle_pct = 10;
        w.rows[0].push_back(random_row(rng, 0, (uint32_t)TB_SEQ_LEN));
        w.rows[1].push_back(random_row(rng, (uint32_t)(TB_LAYERS - 1), 0xffffffffu));
        w.rows[0].push_back(random_row(rng, 0, (uint32_t)TB_SEQ_LEN + 1));
        if ((TB_LAYERS & (TB_LAYERS - 1)) != 0)
            w.rows[1].push_back(random_row(rng, (uint32_t)TB_LAYERS, 0));
        // and a valid row right behind the bad ones (the check must not stick)
        w.rows[0].push_back(random_row(rng, 0, 1));
        w.rows[1].push_back(random_row(rng, 0, 1));
        int ed[2] = {(int)w.rows[0].size(), (int)w.rows[1].size()};
        write_all(tb, rng, w, &model, ed);
        CHECK(m->kv_err, "err not set by an out-of-range write");
        beats = full_read(0);
        CHECK(beats > 0, "no beat compared after the bad writes");
    }

    // 7. Writes while reads stream (a single-port cache, KV_PORTS 1, issues no
    // read in a mantissa write cycle; its held beats must not change): the
    // last layer's upper rows written on both ports while every other row
    // is read with stalls, then everything read back.
    {
        Writer w;
        w.idle_pct = 20;
        uint32_t lw = (uint32_t)TB_LAYERS - 1, half = (uint32_t)TB_SEQ_LEN / 2;
        for (uint32_t pos = half; pos < (uint32_t)TB_SEQ_LEN && pos < half + 40; pos++)
            for (int k = 0; k < 2; k++)
                w.rows[k].push_back(random_row(rng, lw, pos));
        std::deque<Req> reqs[2];
        for (int k = 0; k < 2; k++)
            for (uint32_t h = 0; h < (uint32_t)TB_N_KV_HEADS; h++) {
                for (uint32_t l = 0; l < lw; l++)
                    reqs[k].push_back(Req{l, h, 0, (uint32_t)TB_SEQ_LEN - 1});
                if (half > 0)
                    reqs[k].push_back(Req{lw, h, 0, half - 1});
            }
        bool any = !reqs[0].empty();
        int ed[2] = {w.dones[0] + (int)w.rows[0].size(), w.dones[1] + (int)w.rows[1].size()};
        long b = read_check(tb, rng, model, reqs, 10, 25, false, &w, &model);
        CHECK(!any || b > 0, "no beat compared while writing");
        write_all(tb, rng, w, &model, ed);
        CHECK(full_read(10) > 0, "no beat compared after the concurrent writes");
    }

    std::printf("tb_kvcache: %d row writes per port, %ld beats compared (kv_ports %d, mul_share "
                "%d)\n",
                nrows, beats, TB_KV_PORTS, TB_MUL_SHARE);
    return tb.finish(g_errors == 0);
}
