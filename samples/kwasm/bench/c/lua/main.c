// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark driver: runs bench.lua (embedded at build time as bench_lua,
 * a C string) in a fresh Lua 5.4 state with the base, table, string,
 * math and utf8 libraries (not coroutines: a yield unwinds the C stack
 * with longjmp, which this build does not have). `lua [SCALE]`: SCALE,
 * the amount of work in percent (default 100), is the script's global
 * SCALE.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

extern const char bench_lua[];

static const luaL_Reg libs[] = {
	{ LUA_GNAME, luaopen_base },	      { LUA_TABLIBNAME, luaopen_table },    { LUA_STRLIBNAME, luaopen_string },
	{ LUA_MATHLIBNAME, luaopen_math },    { LUA_UTF8LIBNAME, luaopen_utf8 },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	lua_State *L = luaL_newstate();
	const luaL_Reg *lib;

	if (!L)
		return 1;
	for (lib = libs; lib->func; lib++) {
		luaL_requiref(L, lib->name, lib->func, 1);
		lua_pop(L, 1);
	}
	lua_pushinteger(L, argc > 1 ? atoi(argv[1]) : 100);
	lua_setglobal(L, "SCALE");
	/* Errors abort (no setjmp); the script raises none. */
	if (luaL_loadstring(L, bench_lua) != LUA_OK)
		return 1;
	lua_call(L, 0, 0);
	lua_close(L);
	return 0;
}
