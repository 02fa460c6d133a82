// dec_common.h: what the decoder co-simulations share (sim/tb_decoder.cpp,
// the top module with its on-chip weights; examples/fpga/icebreaker/
// sim_decoder.cpp, the iCEBreaker system with weights from the flash model
// and tokens over the UART): plusargs, the model the emitter built (checked
// against manifest.json's hash), the prompt, and the C reference running
// llama2.c's generate() loop position by position, and the K/V cache's
// contents recorded from its write port (KvTap) for comparison with the
// reference's cache.
//
// Plusargs read here: +dir +config (+ the CLI's overrides) +checkpoint
// +tokenizer +prompt / +tokens / +teacher +n +temp +seed (see tb_decoder.cpp).
// Header-only: each harness is one translation unit.
#ifndef LLAMAGEN_SIM_DEC_COMMON_H
#define LLAMAGEN_SIM_DEC_COMMON_H

extern "C" {
#include "llamagen/checkpoint.h"
#include "llamagen/emit_decoder.h"
#include "llamagen/emit_mem.h"
#include "llamagen/quantize.h"
#include "llamagen/ref_model.h"
#include "llamagen/tokenizer.h"
}

#include <verilated_syms.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

// Failures: counted, the first 20 printed (a harness exits non-zero on any).
static int errors = 0;
#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            if (errors++ < 20) {                                                             \
                std::printf("\nFAIL %s:%d: ", __FILE__, __LINE__);                         \
                std::printf(__VA_ARGS__);                                                    \
                std::printf("\n");                                                           \
            }                                                                                \
        }                                                                                    \
    } while (0)

// ---- arguments ----------------------------------------------------------------------

static std::map<std::string, std::string> args;

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '+')
            continue;
        const char *eq = std::strchr(a, '=');
        if (eq)
            args[std::string(a + 1, eq)] = eq + 1;
        else
            args[a + 1] = "";
    }
}

static bool has(const char *k) { return args.count(k) != 0; }
static std::string arg(const char *k, const char *def)
{
    return has(k) ? args[k] : std::string(def);
}
static long long argi(const char *k, long long def)
{
    return has(k) ? std::strtoll(args[k].c_str(), nullptr, 0) : def;
}

// Decimal temperature -> 1/T in Q16 with integer arithmetic (as the CLI's
// run does): "0.8" -> round(65536 * 10 / 8); 0 = greedy.
static uint32_t inv_temp_q16(const char *text)
{
    uint64_t num = 0, den = 1;
    int frac = 0;
    for (const char *c = text; *c; c++) {
        if (*c == '.') {
            frac = 1;
            continue;
        }
        if (*c < '0' || *c > '9' || num > 1000000000000ull || den > 1000000000000ull)
            break;
        num = num * 10 + (uint64_t)(*c - '0');
        if (frac)
            den *= 10;
    }
    if (num == 0)
        return 0;
    uint64_t v = (65536 * den + num / 2) / num;
    return v > 0xffffff ? 0xffffff : (v == 0 ? 1 : (uint32_t)v);
}

// ---- the reference: llama2.c's generate() loop on the C model ----------------------------

struct Sequence {
    std::vector<int> prompt; // ids as sent (may include rejected ones)
    int n_gen;
    uint32_t inv_temp;
    uint32_t seed;
    const char *what;
    // false: no seed writes before the run, the PRNG goes on from the last run
    bool reseed = true;
};

// The K/V caches' contents, from the cache's RAM write port: the quantizer's
// write signals inside <prefix>_kvcache (public_flat_rd wires; per cache in
// g_cache[0] (K) and g_cache[1] (V), or shared with a select in the
// --mul-share form), recorded every cycle into a shadow of the two caches'
// words as the RAMs hold them (mantissa word w = BEAT elements of row
// w / WPR, lane i in bits [KV_BITS * i +: KV_BITS]; exponent word = NGB
// 5-bit exponents; row = layer * seq_len + pos). After each position's
// logits the rows of that position (every layer) are compared with the C
// model's cache (lg_kvcache: every mantissa and exponent), and at the end of
// a sequence every row it wrote; a write to a row of another position than
// the one running fails at once.
struct KvTap {
    struct Sig {
        const uint8_t *p = nullptr;
        int bytes = 0, bits = 0;
        bool ok() const { return p != nullptr; }
        uint64_t u64() const
        {
            uint64_t v = 0;
            for (int i = 0; i < bytes && i < 8; i++)
                v |= (uint64_t)p[i] << (8 * i);
            return bits < 64 ? v & ((1ull << bits) - 1) : v;
        }
    };
    struct Cache {
        Sig we, addr, data, ewe, eaddr, edata;
        // shadow words (ceil(bits / 8) bytes each) and which were written
        std::vector<uint8_t> mant, expo, mw, ew;
    };
    Cache c[2];
    Sig sel; // --mul-share form: the cache the shared write port serves (0 K, 1 V)
    bool shared = false, found = false;
    int beat = 0, ngb = 0, mwb = 0, ewb = 0, wpr = 0, epr = 0;
    int kv_bits = 0, kv_dim = 0, group = 0, seq_len = 0, layers = 0;
    uint64_t writes = 0, rows_checked = 0;
    int cur_pos = 0; // the position the decoder runs (the next logits')

    static Sig get(const VerilatedScope *sc, const char *name)
    {
        Sig g;
        VerilatedVar *v = sc ? sc->varFind(name) : nullptr;
        if (v) {
            g.p = (const uint8_t *)v->datap();
            g.bits = v->dims() > 0 ? v->packed().elements() : 1;
            g.bytes = (int)v->entSize();
        }
        return g;
    }

    // Finds the signals: false when they are missing (the caller says so)
    // or their widths do not fit the configuration (printed here).
    bool find(const VerilatedScopeNameMap *mp, const lg_config &cfg)
    {
        const VerilatedScope *sc[2] = {nullptr, nullptr}, *sh = nullptr;
        for (const auto &kv : *mp) {
            const std::string &n = kv.first;
            auto ends = [&](const char *suf) {
                size_t l = std::strlen(suf);
                return n.size() >= l && n.compare(n.size() - l, l, suf) == 0;
            };
            if (ends(".u_kv.g_cache[0]") || ends(".u_kv.g_cache__BRA__0__KET__"))
                sc[0] = kv.second;
            else if (ends(".u_kv.g_cache[1]") || ends(".u_kv.g_cache__BRA__1__KET__"))
                sc[1] = kv.second;
            else if (ends(".u_kv") && kv.second->varFind("q_we_any"))
                sh = kv.second;
        }
        shared = sh != nullptr;
        for (int k = 0; k < 2; k++) {
            const VerilatedScope *s = shared ? sh : sc[k];
            Cache &x = c[k];
            x.we = get(s, shared ? "q_we_any" : "q_we");
            x.addr = get(s, "q_addr");
            x.data = get(s, "q_data");
            x.ewe = get(s, shared ? "q_ewe_any" : "q_ewe");
            x.eaddr = get(s, "q_eaddr");
            x.edata = get(s, "q_edata");
            if (!x.we.ok() || !x.addr.ok() || !x.data.ok() || !x.ewe.ok() || !x.eaddr.ok() ||
                !x.edata.ok())
                return false;
        }
        if (shared && !(sel = get(sh, "q_sel")).ok())
            return false;
        kv_bits = cfg.hw.kv_bits;
        kv_dim = lg_kv_dim(&cfg.m);
        group = cfg.hw.kv_group;
        seq_len = cfg.m.seq_len;
        layers = cfg.m.n_layers;
        beat = c[0].data.bits / kv_bits;
        ngb = c[0].edata.bits / 5;
        int egw = beat > group ? beat : group;
        if (beat * kv_bits != c[0].data.bits || ngb * 5 != c[0].edata.bits || kv_dim % beat ||
            kv_dim % egw || ngb != (beat / group > 1 ? beat / group : 1)) {
            std::printf("K/V tap: word shapes (%d-bit mantissa words, %d-bit exponent words) "
                        "do not fit KV_BITS %d, KV_GROUP %d\n",
                        c[0].data.bits, c[0].edata.bits, kv_bits, group);
            return false;
        }
        wpr = kv_dim / beat;
        epr = kv_dim / egw;
        mwb = (c[0].data.bits + 7) / 8;
        ewb = (c[0].edata.bits + 7) / 8;
        size_t rows = (size_t)layers * (size_t)seq_len;
        for (auto &x : c) {
            x.mant.assign(rows * wpr * mwb, 0);
            x.expo.assign(rows * epr * ewb, 0);
            x.mw.assign(rows * wpr, 0);
            x.ew.assign(rows * epr, 0);
        }
        found = true;
        return true;
    }

    // A sequence starts at position 0: nothing of it written yet.
    void begin()
    {
        cur_pos = 0;
        for (auto &x : c) {
            std::fill(x.mw.begin(), x.mw.end(), 0);
            std::fill(x.ew.begin(), x.ew.end(), 0);
        }
    }

    // Before a rising edge: the writes the RAMs take at it (none while the
    // design is held in reset: the quantizer's registers start at random
    // values before the first reset edge, with --x-initial unique).
    void sample(bool in_reset)
    {
        if (!found || in_reset)
            return;
        for (int k = 0; k < 2; k++) {
            // one write port for both in the shared form: the select says whose
            int to = shared ? (int)sel.u64() : k;
            Cache &x = c[k], &dst = c[to & 1];
            if (x.we.u64())
                store(to, x.addr.u64(), x.data, wpr, mwb, dst.mant, dst.mw, "mantissa");
            if (x.ewe.u64())
                store(to, x.eaddr.u64(), x.edata, epr, ewb, dst.expo, dst.ew, "exponent");
            if (shared)
                break;
        }
    }
    void store(int k, uint64_t a, const Sig &d, int per_row, int wb, std::vector<uint8_t> &mem,
               std::vector<uint8_t> &written, const char *what)
    {
        writes++;
        uint64_t row = a / (uint64_t)per_row;
        if (row >= (uint64_t)layers * (uint64_t)seq_len) {
            CHECK(false, "K/V: %s write to %c word %llu, past the cache", what, "KV"[k],
                  (unsigned long long)a);
            return;
        }
        int pos = (int)(row % (uint64_t)seq_len);
        CHECK(pos == cur_pos, "K/V: %s write to %c row (layer %d, pos %d) while position %d runs",
              what, "KV"[k], (int)(row / (uint64_t)seq_len), pos, cur_pos);
        std::memcpy(&mem[(size_t)a * wb], d.p, (size_t)wb);
        written[(size_t)a] = 1;
    }

    // Compares the rows of position pos, every layer, with the C model's
    // cache; returns the elements and exponents that differ.
    int compare_pos(const lg_kvcache &ref, int pos)
    {
        int bad = 0;
        for (int l = 0; l < layers; l++) {
            size_t row = (size_t)l * (size_t)seq_len + (size_t)pos;
            for (int k = 0; k < 2; k++) {
                const Cache &x = c[k];
                const int16_t *rm = (k ? ref.v_mant : ref.k_mant) + row * (size_t)kv_dim;
                const uint8_t *re = (k ? ref.v_exp : ref.k_exp) + row * (size_t)ref.ngroups;
                for (int e = 0; e < kv_dim; e++) {
                    size_t w = row * (size_t)wpr + (size_t)(e / beat);
                    uint32_t got = 0;
                    for (int b = 0; b < kv_bits; b++) {
                        int bi = kv_bits * (e % beat) + b;
                        got |= (uint32_t)((x.mant[w * mwb + bi / 8] >> (bi % 8)) & 1) << b;
                    }
                    uint32_t want = (uint32_t)(uint16_t)rm[e] & ((1u << kv_bits) - 1);
                    if (!x.mw[w] || got != want) {
                        if (bad < 6)
                            std::printf("\n  K/V: %c layer %d pos %d element %d: rtl %s0x%x, "
                                        "model 0x%x", "KV"[k], l, pos, e,
                                        x.mw[w] ? "" : "(never written) ", got, want);
                        bad++;
                    }
                }
                for (int g = 0; g < ref.ngroups; g++) {
                    size_t w = row * (size_t)epr + (size_t)(g / ngb);
                    int sh = 5 * (g % ngb);
                    uint32_t got = 0;
                    for (int b = 0; b < 5; b++)
                        got |= (uint32_t)((x.expo[w * ewb + (sh + b) / 8] >> ((sh + b) % 8)) & 1)
                               << b;
                    if (!x.ew[w] || got != re[g]) {
                        if (bad < 6)
                            std::printf("\n  K/V: %c layer %d pos %d group %d exponent: rtl "
                                        "%s%u, model %u", "KV"[k], l, pos, g,
                                        x.ew[w] ? "" : "(never written) ", got, re[g]);
                        bad++;
                    }
                }
            }
        }
        rows_checked += 2 * (uint64_t)layers;
        return bad;
    }

    void report() const
    {
        std::printf("K/V cache: %llu RAM writes recorded, %llu row comparisons with the C "
                    "model's cache (K and V, every mantissa and exponent)\n",
                    (unsigned long long)writes, (unsigned long long)rows_checked);
    }
};

struct Ref {
    const lg_qmodel *qm;
    lg_ref_model rm;
    int vocab, seq_len;
    // expectation of the current sequence
    std::vector<int> inputs; // input token of each position, as known so far
    int n_prompt;            // accepted prompt tokens (positions fed by the host)
    bool sample_after_prompt;
    int gen_left;
    uint32_t inv_temp, state;
    bool err_pos, err_tok, over;
    int pos_done; // positions whose logits were compared
    std::deque<std::pair<int, int>> exp_tokens; // (input of the position, sampled token)
    KvTap *kvt = nullptr; // the design's K/V cache writes, compared after each position

    void begin(const Sequence &s)
    {
        if (kvt)
            kvt->begin();
        inputs.clear();
        tap.clear();
        exp_tokens.clear();
        err_pos = err_tok = over = false;
        pos_done = 0;
        inv_temp = s.inv_temp;
        if (s.reseed)
            state = lg_sampler_seed(s.seed);
        gen_left = s.n_gen;
        bool last_rejected = false;
        for (size_t i = 0; i < s.prompt.size(); i++) {
            int t = s.prompt[i];
            bool rej = false;
            if (t < 0 || t >= vocab) {
                err_tok = true;
                rej = true;
            } else if ((int)inputs.size() == seq_len) {
                err_pos = true;
                rej = true;
            } else {
                inputs.push_back(t);
            }
            if (i + 1 == s.prompt.size())
                last_rejected = rej;
        }
        n_prompt = (int)inputs.size();
        sample_after_prompt = !last_rejected && gen_left > 0;
        if (inputs.empty())
            over = true;
    }

    // HW logits of the next position: compare, then advance the loop.
    // Returns the sampled token or -1.
    std::vector<int32_t> tap; // logits of the position being received

    // One word of the m_logit tap. When it completes a position's vector
    // (vocab words, m_logit_last on the last), compares every logit with the
    // reference and returns the position; -1 while the vector fills.
    int logit(int32_t v, bool last)
    {
        tap.push_back(v);
        CHECK(last == ((int)tap.size() == vocab), "m_logit_last at logit %zu", tap.size() - 1);
        if ((int)tap.size() < vocab)
            return -1;
        int p = pos_done, bad = 0;
        int in_tok = p < (int)inputs.size() ? inputs[p] : -1;
        position(tap, &bad);
        CHECK(bad == 0, "position %d (input token %d): %d of %d logits differ", p, in_tok, bad,
              vocab);
        tap.clear();
        if (kvt && kvt->found && p < seq_len && p < (int)inputs.size()) {
            int kb = kvt->compare_pos(rm.kv, p);
            CHECK(kb == 0, "position %d: %d K/V cache elements / exponents differ", p, kb);
            kvt->cur_pos = p + 1;
        }
        return p;
    }

    // At a sequence's end: the whole cache it wrote once more (no later
    // write may have changed an earlier row).
    void end_kv_check()
    {
        for (int p = 0; kvt && kvt->found && p < pos_done && p < seq_len; p++) {
            int bad = kvt->compare_pos(rm.kv, p);
            CHECK(bad == 0, "end of sequence: position %d: %d K/V elements / exponents differ", p,
                  bad);
        }
    }

    // Finds the design's K/V write port (a failed check when it is not
    // there: the contents would go uncompared) and compares through it from
    // now on.
    void attach_kv(KvTap *t, VerilatedContext *ctx, const lg_config &cfg)
    {
        const VerilatedScopeNameMap *mp = ctx->scopeNameMap();
        bool ok = mp && t->find(mp, cfg);
        CHECK(ok, "the K/V cache's write port (public_flat_rd q_* wires in u_kv) not found: its "
                  "contents cannot be compared");
        kvt = t;
    }

    int position(const std::vector<int32_t> &hw, int *mismatches)
    {
        int p = pos_done++;
        if (p >= (int)inputs.size()) {
            *mismatches = -1;
            return -1;
        }
        const int32_t *lg = lg_ref_forward(&rm, inputs[p], p);
        int bad = 0;
        for (int i = 0; i < vocab; i++)
            if (hw[i] != lg[i]) {
                if (bad < 4)
                    std::printf("\n  pos %d logit %d: rtl %d ref %d", p, i, hw[i], lg[i]);
                bad++;
            }
        *mismatches = bad;
        int tok = -1;
        if (p >= n_prompt - 1 && sample_after_prompt && gen_left > 0) {
            // sample from the reference's own logits (the loop stays the
            // reference's even if the RTL drifted)
            tok = lg_ref_sample(lg, vocab, inv_temp, &state, &qm->luts);
            exp_tokens.push_back(std::make_pair(inputs[p], tok));
            gen_left--;
            if (gen_left == 0 || tok == 1) {
                over = true;
            } else if (p + 1 == seq_len) {
                err_pos = true;
                over = true;
            } else {
                inputs.push_back(tok);
            }
        } else if (p + 1 == (int)inputs.size()) {
            over = true;
        }
        return tok;
    }
};

// ---- the model and the main sequence ---------------------------------------------------

static std::string read_file(const std::string &path)
{
    std::string s;
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f)
        return s;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        s.append(buf, n);
    std::fclose(f);
    return s;
}

// What dec_setup() loads. The caller owns it (dec_teardown frees it).
struct DecSetup {
    lg_config cfg;
    lg_qmodel qm;
    lg_tokenizer tok;
    bool have_tok;
    Sequence main_seq; // the prompt and generation of +prompt/+tokens/+teacher/+n/+temp/+seed
    int n_gen_max;     // the largest ctl_n_gen its POS_W = clog2(seq_len + 1) bits hold
};

// Builds the config and the quantized model exactly as the emitter did,
// checks them against +dir's manifest.json, enters +dir (the memory images
// are read relative to it) and builds the main sequence. Returns 0, or
// prints "PROG: reason" and returns 2.
static int dec_setup(const char *prog, DecSetup *ds)
{
    lg_config &cfg = ds->cfg;
    lg_qmodel &qm = ds->qm;
    lg_tokenizer &tok = ds->tok;
    bool &have_tok = ds->have_tok;
    Sequence &main_seq = ds->main_seq;
    std::memset(&tok, 0, sizeof tok);
    have_tok = false;
    lg_err err;
    lg_weights w;
    std::memset(&w, 0, sizeof w);
    // the model as llamagen built it (lg_config_build: +config, default
    // 260k, with +checkpoint's weights when given, then the overrides)
    const char *ov[LG_N_OVERRIDES] = {0};
    for (int k = 0; k < LG_N_OVERRIDES; k++)
        if (has(lg_override_keys[k]))
            ov[k] = args[lg_override_keys[k]].c_str();
    std::string config = arg("config", "260k");
    if (lg_config_build(config.c_str(), has("checkpoint") ? args["checkpoint"].c_str() : nullptr,
                        ov, &cfg, &w, &err)) {
        std::printf("%s: %s\n", prog, err.msg);
        lg_weights_free(&w);
        return 2;
    }
    if (has("tokenizer")) {
        if (lg_tokenizer_load(args["tokenizer"].c_str(), cfg.m.vocab_size, &tok, &err)) {
            std::printf("%s: %s\n", prog, err.msg);
            return 2;
        }
        have_tok = true;
    }
    if (lg_decoder_qmodel(&qm, &cfg, has("checkpoint") ? &w : nullptr, &err)) {
        std::printf("%s: %s\n", prog, err.msg);
        return 2;
    }
    lg_weights_free(&w);

    // the emitted design must be this model
    std::string dir = arg("dir", ".");
    std::string manifest = read_file(dir + "/manifest.json");
    char hash[64];
    std::snprintf(hash, sizeof hash, "\"hash\": \"%016llx\"",
                  (unsigned long long)lg_decoder_hash(&qm));
    if (manifest.find(hash) == std::string::npos) {
        std::printf("%s: %s/manifest.json is not the decoder of this model and config "
                    "(expected %s)\n",
                    prog, dir.c_str(), hash);
        return 2;
    }
    if (chdir(dir.c_str()) != 0) {
        std::printf("%s: cannot enter %s\n", prog, dir.c_str());
        return 2;
    }

    // the main sequence
    ds->n_gen_max = 1;
    while (ds->n_gen_max < cfg.m.seq_len)
        ds->n_gen_max = 2 * ds->n_gen_max + 1;
    // +n as given must fit the port; the default 8 is cut to it
    long long n_arg = argi("n", 8 < ds->n_gen_max ? 8 : ds->n_gen_max);
    if (n_arg < 0 || n_arg > ds->n_gen_max) {
        std::printf("%s: +n=%lld does not fit ctl_n_gen (0..%d at seq_len %d)\n", prog, n_arg,
                    ds->n_gen_max, (int)cfg.m.seq_len);
        return 2;
    }
    main_seq.n_gen = (int)n_arg;
    main_seq.inv_temp = inv_temp_q16(arg("temp", "0").c_str());
    main_seq.seed = (uint32_t)argi("seed", 42);
    main_seq.what = "main";
    if (has("tokens")) {
        std::string s = args["tokens"];
        for (size_t i = 0; i < s.size();) {
            size_t j = s.find(',', i);
            if (j == std::string::npos)
                j = s.size();
            main_seq.prompt.push_back(std::atoi(s.substr(i, j - i).c_str()));
            i = j + 1;
        }
    } else if (has("prompt")) {
        if (!have_tok) {
            std::printf("%s: +prompt needs +tokenizer\n", prog);
            return 2;
        }
        std::string p = args["prompt"];
        std::vector<int> ids(p.size() + 3);
        int n = 0;
        if (lg_tokenizer_encode(&tok, p.c_str(), 1, 0, ids.data(), &n, &err)) {
            std::printf("%s: %s\n", prog, err.msg);
            return 2;
        }
        main_seq.prompt.assign(ids.begin(), ids.begin() + n);
    } else if (has("teacher")) {
        // BOS and the reference's own greedy continuation, as one long prompt
        // (every position runs; the bench reaches seq_len - 1 whatever the
        // model says, BOS included)
        int n = (int)argi("teacher", cfg.m.seq_len);
        n = n < 1 ? 1 : (n > cfg.m.seq_len ? cfg.m.seq_len : n);
        lg_ref_model tm;
        if (lg_ref_model_init(&tm, &qm, &err)) {
            std::printf("%s: %s\n", prog, err.msg);
            return 2;
        }
        int t = 1;
        for (int p = 0; p < n; p++) {
            main_seq.prompt.push_back(t);
            if (p + 1 < n)
                t = lg_ref_argmax(lg_ref_forward(&tm, t, p), cfg.m.vocab_size);
        }
        lg_ref_model_free(&tm);
    } else {
        main_seq.prompt.push_back(1); // BOS
    }
    return 0;
}

static void dec_teardown(DecSetup *ds)
{
    lg_qmodel_free(&ds->qm);
    if (ds->have_tok)
        lg_tokenizer_free(&ds->tok);
}

#endif
