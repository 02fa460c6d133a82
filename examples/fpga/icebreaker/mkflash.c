// mkflash: flash images for the iCEBreaker builds (docs/fpga.md).
//
//   mkflash weights [--config NAME] [--checkpoint FILE] [llamagen's overrides]
//                   [--marks] [--expect-tag HEX] -o OUT.bin
//       the decoder's whole weight stream, one beat after the other in the
//       lg_qspi_stream layout (flash_image.h), built from the same quantized
//       model the emitted decoder bakes in: the model options are llamagen's
//       (lg_config_build: --config, --checkpoint, --seq-len, --lanes, ...;
//       --tokenizer accepted and ignored), so the emission's own arguments
//       give its image (the K smoothing calibrates over min(seq_len, ...)
//       tokens: a seq_len of its own changes the weights); lanes 4 unless
//       given. --marks: the marked layout (each dexp once, in a mark beat;
//       lg_qspi_stream MARKS = 1, the iCEBreaker decoder's). --expect-tag:
//       refuse (exit 1, nothing written) an image whose lg_wimage_tag is not
//       this one (the emitted manifest's weight_tag). Program it at 1 MiB:
//       iceprog -o 1M OUT.bin
//   mkflash probe [--lanes N] [--rows R] [--cols C] [--seed S] -o OUT.bin --expect OUT.txt
//       a random I8E matrix (R x C, G 32) for icebreaker_probe, plus the
//       activation vector, the shift and the results lg_ref_matvec gives,
//       which lgtok.py --probe sends and compares.
// Prints the image size and the flash time per token at a given SCK rate.
#include "flash_image.h"
#include "llamagen/checkpoint.h"
#include "llamagen/emit_decoder.h"
#include "llamagen/emit_mem.h"
#include "llamagen/quantize.h"
#include "llamagen/ref.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Outputs are written to PATH.tmp and renamed into place once complete (by
// publish), so that a failure leaves no half-written file behind.
static void tmp_name(char *t, size_t size, const char *path)
{
    snprintf(t, size, "%s.tmp", path);
}

static int write_file(const char *path, const uint8_t *b, size_t n)
{
    char t[4096];
    tmp_name(t, sizeof t, path);
    FILE *f = fopen(t, "wb");
    if (!f) {
        fprintf(stderr, "mkflash: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int bad = fwrite(b, 1, n, f) != n;
    if (fclose(f) || bad) {
        fprintf(stderr, "mkflash: %s: write failed\n", path);
        remove(t);
        return -1;
    }
    return 0;
}

// Renames PATH.tmp to PATH (ok), or removes PATH.tmp (!ok: another output
// failed). 0 on success.
static int publish(const char *path, int ok)
{
    char t[4096];
    tmp_name(t, sizeof t, path);
    if (!ok) {
        remove(t);
        return -1;
    }
    if (rename(t, path)) {
        fprintf(stderr, "mkflash: %s: %s\n", path, strerror(errno));
        remove(t);
        return -1;
    }
    return 0;
}

// An integer option's value in lo..hi; 0, or -1 with one line on stderr.
static int arg_int(const char *cmd, const char *opt, const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "mkflash %s: %s: '%s' is not an integer in %ld..%ld\n", cmd, opt, s, lo,
                hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

// bytes: the image's size (packed or marked)
// changes: the marked layout's dexp changes before the classifier
static void summary(const lg_wimage *img, int64_t bytes, int marks, int64_t changes)
{
    // 4 bits per SCK: 2 SCK cycles a byte; the decoder's reader runs SCK at
    // clk, the probe's at clk / 2
    if (marks) {
        // the tag nibbles the reader checks: one per residue (dexp mod 4) of
        // the marks' dexps
        int64_t c = img->mats[img->nmats - 1].first, bpg = img->group / img->lanes;
        unsigned res = 0;
        for (int64_t b = 0; b < img->nbeats; b++)
            if (lg_flash_mark_before(img, b, c, bpg))
                res |= 1u << (lg_wbeat_dexp(img, b, 0) & 3);
        int64_t lead = lg_wimage_marks_lead(img, NULL, NULL);
        printf("image: %lld beats and %lld dexp marks x %d bytes = %lld bytes (marked layout, "
               "lanes %d; %lld dexp changes before the classifier, %lld repeats ahead of them "
               "that a token's burst skips: %lld bytes read a token; tag %04x, the manifest's "
               "weight_tag, %d of its 4 nibbles in the marks)\n",
               (long long)img->nbeats, (long long)(bytes / img->lanes - img->nbeats), img->lanes,
               (long long)bytes, img->lanes, (long long)changes, (long long)lead,
               (long long)(bytes - lead * img->lanes), (unsigned)lg_wimage_tag(img),
               __builtin_popcount(res));
    } else
        printf("image: %lld beats x %d nibbles = %lld bytes (%d-bit beats, lanes %d, %d dexp)\n",
               (long long)img->nbeats, lg_flash_beat_nibbles(img->beat_bits), (long long)bytes,
               img->beat_bits, img->lanes, img->ndexp);
    for (int mhz = 18; mhz <= 30; mhz += 12)
        printf("  at clk %d MHz: %.1f ms per full stream at SCK = clk, %.1f at SCK = clk / 2\n",
               mhz, (double)bytes * 2.0 / (mhz * 1000.0), (double)bytes * 4.0 / (mhz * 1000.0));
}

static int cmd_weights(int argc, char **argv)
{
    const char *config = NULL, *ckpt = NULL, *out = NULL, *expect = NULL;
    const char *ov[LG_N_OVERRIDES] = {0};
    int marks = 0;
    for (int i = 2; i < argc; i++) {
        // an override, as llamagen takes it: --key value or --key=value
        int k = -1;
        const char *eq = strchr(argv[i], '=');
        size_t len = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
        for (int j = 0; j < LG_N_OVERRIDES && argv[i][0] == '-' && argv[i][1] == '-'; j++)
            if (len == 2 + strlen(lg_override_keys[j]) &&
                !strncmp(argv[i] + 2, lg_override_keys[j], len - 2))
                k = j;
        if (!strcmp(argv[i], "--marks"))
            marks = 1;
        else if (k >= 0 && eq)
            ov[k] = eq + 1;
        else if (k >= 0 && i + 1 < argc)
            ov[k] = argv[++i];
        else if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config = argv[++i];
        else if (!strcmp(argv[i], "--checkpoint") && i + 1 < argc)
            ckpt = argv[++i];
        else if (!strcmp(argv[i], "--tokenizer") && i + 1 < argc)
            i++; // (llamagen's; the image does not need it)
        else if (!strcmp(argv[i], "--expect-tag") && i + 1 < argc)
            expect = argv[++i];
        else if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out = argv[++i];
        else {
            fprintf(stderr, "mkflash weights: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!out) {
        fprintf(stderr, "mkflash weights: -o OUT.bin is required\n");
        return 2;
    }
    unsigned long want = 0;
    if (expect) {
        char *end;
        errno = 0;
        want = strtoul(expect, &end, 16);
        if (errno || !*expect || *end || want > 0xffff) {
            fprintf(stderr, "mkflash weights: --expect-tag: '%s' is not a 16-bit hex tag\n",
                    expect);
            return 2;
        }
    }
    // the model as llamagen builds it from the same options (so the image
    // holds the weights the emitted decoder was quantized with: lg_config_build)
    if (!config && !ckpt)
        config = "260k";
    for (int j = 0; j < LG_N_OVERRIDES; j++)
        if (!strcmp(lg_override_keys[j], "lanes") && !ov[j])
            ov[j] = "4";
    lg_err err = {{0}};
    // an override value that is no number (or no 0 / 1) is a usage error
    // (exit 2), told before any model is built: lg_config_override alone
    // parses it
    for (int j = 0; j < LG_N_OVERRIDES; j++) {
        lg_config scratch = {0};
        if (ov[j] && lg_config_override(&scratch, lg_override_keys[j], ov[j], &err)) {
            fprintf(stderr, "mkflash weights: %s\n", err.msg);
            return 2;
        }
    }
    lg_config cfg;
    lg_weights w;
    if (lg_config_build(config, ckpt, ov, &cfg, &w, &err)) {
        lg_weights_free(&w);
        fprintf(stderr, "mkflash weights: %s\n", err.msg);
        return 1;
    }
    int lanes = cfg.hw.lanes;
    lg_qmodel qm;
    lg_wimage img;
    int rc = lg_decoder_qmodel(&qm, &cfg, ckpt ? &w : NULL, &err);
    lg_weights_free(&w);
    if (rc) {
        fprintf(stderr, "mkflash: %s\n", err.msg);
        return 1;
    }
    // (the image's matrices point into qm: freed with it, below)
    rc = lg_wimage_build(&img, &qm, lanes, &err);
    if (rc) {
        lg_qmodel_free(&qm);
        fprintf(stderr, "mkflash: %s\n", err.msg);
        return 1;
    }
    if (expect && lg_wimage_tag(&img) != (uint32_t)want) {
        fprintf(stderr, "mkflash weights: the image's tag %04x is not the expected %04x (the "
                        "decoder's weight_tag): its options or checkpoint differ from the "
                        "emission's\n", (unsigned)lg_wimage_tag(&img), (unsigned)want);
        lg_wimage_free(&img);
        lg_qmodel_free(&qm);
        return 1;
    }
    uint8_t *b;
    int64_t nb = 0, changes = 0;
    char why[256];
    if (lg_flash_build(&img, marks, &b, &nb, NULL, &changes, why, sizeof why)) {
        fprintf(stderr, "mkflash weights: %s\n", why);
        lg_wimage_free(&img);
        lg_qmodel_free(&qm);
        return 1;
    }
    size_t n = (size_t)nb;
    if (LG_FLASH_BASE + n > (16u << 20))
        fprintf(stderr, "mkflash: warning: the image does not fit a 16 MiB flash at 1 MiB\n");
    rc = write_file(out, b, n);
    rc = rc || publish(out, 1);
    if (!rc) // (the summary describes a file that exists: after the write)
        summary(&img, (int64_t)n, marks, changes);
    free(b);
    lg_wimage_free(&img);
    lg_qmodel_free(&qm);
    return rc ? 1 : 0;
}

// xorshift64 for the probe's random data (reproducible everywhere)
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int cmd_probe(int argc, char **argv)
{
    int lanes = 4, rows = 512, cols = 172, shift = 16;
    uint64_t seed = 1;
    const char *out = NULL, *expect = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--lanes") && i + 1 < argc) {
            if (arg_int("probe", "--lanes", argv[++i], 1, 64, &lanes))
                return 2;
        } else if (!strcmp(argv[i], "--rows") && i + 1 < argc) {
            if (arg_int("probe", "--rows", argv[++i], 1, 65536, &rows))
                return 2;
        } else if (!strcmp(argv[i], "--cols") && i + 1 < argc) {
            // (the 'G' frame carries the vector: at most 65535 ids)
            if (arg_int("probe", "--cols", argv[++i], 2, 65535, &cols))
                return 2;
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "--expect") && i + 1 < argc)
            expect = argv[++i];
        else {
            fprintf(stderr, "mkflash probe: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!out || !expect) {
        fprintf(stderr, "mkflash probe: -o OUT.bin and --expect OUT.txt are required\n");
        return 2;
    }
    if (lanes & (lanes - 1)) {
        fprintf(stderr, "mkflash probe: --lanes %d: a power of two in 1..64\n", lanes);
        return 2;
    }
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    lg_qmat m = {rows, cols, 32, (cols + 31) / 32, -12, NULL, NULL};
    m.mant = malloc((size_t)rows * (size_t)cols);
    m.dexp = malloc((size_t)rows * (size_t)m.ngroups);
    int16_t *x = malloc(sizeof *x * (size_t)cols);
    int32_t *y = malloc(sizeof *y * (size_t)rows);
    if (!m.mant || !m.dexp || !x || !y) {
        fprintf(stderr, "mkflash: out of memory\n");
        return 1;
    }
    for (int i = 0; i < rows * cols; i++)
        m.mant[i] = (int8_t)rnd(&s);
    for (int i = 0; i < rows * m.ngroups; i++)
        m.dexp[i] = (uint8_t)(rnd(&s) & 7);
    for (int i = 0; i < cols; i++)
        x[i] = (int16_t)rnd(&s);
    // the engine's shift is -(ebase + xs)
    lg_ref_matvec(y, &m, x, -shift - m.ebase);

    lg_wimage img;
    memset(&img, 0, sizeof img);
    img.lanes = lanes;
    img.group = 32;
    img.ndexp = lg_wimage_ndexp(lanes, 32);
    img.beat_bits = 8 * lanes + 4 * img.ndexp;
    img.words = (img.beat_bits + 63) / 64;
    img.nbeats = lg_wimage_mat_beats(&m, lanes);
    img.beats = calloc((size_t)img.nbeats * (size_t)img.words, sizeof *img.beats);
    lg_err err = {{0}};
    int rc = !img.beats || lg_wimage_pack_mat(img.beats, img.words, &m, lanes, &err);
    size_t n = (size_t)lg_flash_image_bytes(&img);
    uint8_t *b = rc ? NULL : malloc(n);
    if (rc || !b) {
        fprintf(stderr, "mkflash: %s\n", err.msg[0] ? err.msg : "out of memory");
        return 1;
    }
    lg_flash_pack(b, &img);
    rc = write_file(out, b, n);
    char expect_tmp[4096];
    tmp_name(expect_tmp, sizeof expect_tmp, expect);
    FILE *f = rc ? NULL : fopen(expect_tmp, "w");
    if (!rc && !f) {
        fprintf(stderr, "mkflash: %s: %s\n", expect, strerror(errno));
        rc = -1;
    }
    if (f) {
        fprintf(f, "# llamagen icebreaker_probe check (mkflash probe --seed %llu): send x with\n"
                   "# the shift, expect y (lg_ref_matvec of the image's matrix)\n",
                (unsigned long long)seed);
        fprintf(f, "lanes %d rows %d cols %d shift %d\nx", lanes, rows, cols, shift);
        for (int i = 0; i < cols; i++)
            fprintf(f, " %d", x[i]);
        fprintf(f, "\ny");
        for (int i = 0; i < rows; i++)
            fprintf(f, " %d", y[i]);
        fprintf(f, "\n");
        if (fclose(f)) {
            fprintf(stderr, "mkflash: %s: write failed\n", expect);
            rc = -1;
        }
    }
    // both files or neither
    int ok = !rc;
    if (publish(out, ok))
        ok = 0;
    if (publish(expect, ok) && ok) {
        remove(out); // (the image without its expectation)
        ok = 0;
    }
    rc = !ok;
    if (ok)
        summary(&img, lg_flash_image_bytes(&img), 0, 0);
    free(b);
    free(img.beats);
    free(m.mant);
    free(m.dexp);
    free(x);
    free(y);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "weights"))
        return cmd_weights(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "probe"))
        return cmd_probe(argc, argv);
    fprintf(stderr,
            "usage: %s weights [--config NAME] [--checkpoint FILE] [--lanes N] [--marks] -o OUT.bin\n"
            "       %s probe [--lanes N] [--rows R] [--cols C] [--seed S] -o OUT.bin --expect "
            "OUT.txt\n",
            argv[0], argv[0]);
    return 2;
}
