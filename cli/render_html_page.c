/* The page around render_html's data: cli/html/head.html and tail.html,
 * turned into C strings by the Makefile (build/gen/html_*.inc). */
extern const char render_html_page_head[], render_html_page_tail[];

const char render_html_page_head[] =
#include "html_head.inc"
	;

const char render_html_page_tail[] =
#include "html_tail.inc"
	;
