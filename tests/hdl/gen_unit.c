// Bench helper: emits one unit's RTL with the library's emitter, so the
// benches simulate exactly what `llamagen` writes.
//   gen_unit OUTDIR matvec LANES GROUP ROWS COLS [MUL_SHARE]
//   gen_unit OUTDIR actq COLS [MUL_SHARE]
// The banner's config is the 260k preset with the given lanes/group; the
// regenerate line is this command.
#include "llamagen/emit_units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int arg_int(const char *s, int32_t *v)
{
    char *end;
    long x = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || x < 0 || x > (1L << 30))
        return -1;
    *v = (int32_t)x;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s OUTDIR matvec LANES GROUP ROWS COLS [MUL_SHARE] | OUTDIR actq COLS [MUL_SHARE]\n",
                argv[0]);
        return 2;
    }
    char cmd[1024] = "";
    for (int i = 0; i < argc; i++) {
        strncat(cmd, i ? " " : "", sizeof cmd - strlen(cmd) - 1);
        strncat(cmd, argv[i], sizeof cmd - strlen(cmd) - 1);
    }
    lg_err err = {{0}};
    lg_config cfg;
    if (lg_config_preset("260k", &cfg, &err)) {
        fprintf(stderr, "gen_unit: %s\n", err.msg);
        return 1;
    }
    lg_emit_ctx ctx;
    lg_emit_ctx_init(&ctx, &cfg, argv[1], cmd);
    int rc = -1;
    if (strcmp(argv[2], "matvec") == 0 && (argc == 7 || argc == 8)) {
        lg_matvec_params p;
        p.mul_share = 0;
        if (arg_int(argv[3], &p.lanes) || arg_int(argv[4], &p.group) ||
            arg_int(argv[5], &p.rows) || arg_int(argv[6], &p.cols) ||
            (argc == 8 && arg_int(argv[7], &p.mul_share))) {
            fprintf(stderr, "gen_unit: bad matvec arguments\n");
            return 2;
        }
        cfg.hw.lanes = p.lanes;
        cfg.hw.group_size = p.group;
        cfg.hw.mul_share = p.mul_share;
        rc = lg_emit_matvec(&ctx, NULL, &p, &err);
    } else if (strcmp(argv[2], "actq") == 0 && (argc == 4 || argc == 5)) {
        lg_actq_params p;
        int32_t ms = 0;
        if (arg_int(argv[3], &p.cols) || (argc == 5 && arg_int(argv[4], &ms))) {
            fprintf(stderr, "gen_unit: bad actq arguments\n");
            return 2;
        }
        cfg.hw.mul_share = ms; // the lean form (rtl_templates/lg_actq_share.v)
        rc = lg_emit_actq(&ctx, NULL, &p, &err);
    } else {
        fprintf(stderr, "gen_unit: unknown unit or wrong argument count: %s\n", argv[2]);
        return 2;
    }
    if (rc)
        fprintf(stderr, "gen_unit: %s\n", err.msg);
    for (int i = 0; rc == 0 && i < ctx.nfiles; i++)
        printf("%s/%s\n", argv[1], ctx.files[i]);
    lg_emit_ctx_free(&ctx);
    return rc ? 1 : 0;
}
