// tb_uart2: tests/hdl/tb_uart.cpp on a second lg_uart_tokens shape (TOK_W 20,
// POS_W 6, PROMPT_AW 4: an id's third byte, n_gen saturated from its low
// byte, a full prompt buffer); tests/hdl/gen_fpga_units.c writes its
// tb_uart2_top.v and tb_uart_cfg.h, tests/hdl/units_fpga.mk builds it.
#include "tb_uart.cpp"
