# om_static_ticketq.m4 - how ticketq links GLib, GMime and SQLite.
#
# OM_STATIC_TICKETQ
# -----------------
# Sets and substitutes TICKETQ_LIBS, and adds --disable-static-ticketq.
# Needs GMIME_CFLAGS/GMIME_LIBS and SQLITE_CFLAGS/SQLITE_LIBS (from
# PKG_CHECK_MODULES) first.
#
# ticketq runs once per delivered message, and Debian links its shared
# GLib, GIO, GMime and SQLite with BIND_NOW: resolving their symbols at
# every start costs more than parsing and indexing the message.  When
# the static archives are installed (libglib2.0-dev, libgmime-3.0-dev
# and libsqlite3-dev ship them), ticketq links those statically and
# their other dependencies (gpgme, libmount, ...) as shared libraries,
# by soname.  Otherwise, or with --disable-static-ticketq: all shared.
AC_DEFUN([OM_STATIC_TICKETQ], [
AC_ARG_ENABLE([static-ticketq],
  [AS_HELP_STRING([--disable-static-ticketq],
    [link ticketq with the shared GLib, GMime and SQLite (default: their static archives when installed)])],
  [], [enable_static_ticketq=auto])
AC_CHECK_TOOL([READELF], [readelf], [no])
TICKETQ_LIBS="$GMIME_LIBS $SQLITE_LIBS"
AS_IF([test "x$enable_static_ticketq" != xno && test "x$READELF" != xno], [
  AC_MSG_CHECKING([whether ticketq can link GLib, GMime and SQLite statically])
  tq_archives="gmime-3.0 gio-2.0 gobject-2.0 gmodule-2.0 glib-2.0 sqlite3 ffi pcre2-8 z"
  tq_ok=yes
  tq_dyn=""
  for tq_l in $tq_archives; do
    test -f "`$CC -print-file-name=lib$tq_l.a`" || tq_ok=no
  done
  for tq_l in gmime-3.0 gio-2.0 gobject-2.0 gmodule-2.0 glib-2.0 sqlite3; do
    test $tq_ok = yes || break
    for tq_n in `$READELF -d "\`$CC -print-file-name=lib$tq_l.so\`" 2>/dev/null |
        sed -n 's/.*(NEEDED).*\@<:@\(.*\)\@:>@.*/\1/p'`; do
      case " $tq_dyn " in *" -l:$tq_n "*) continue ;; esac
      case $tq_n in
      libgmime-*|libgio-*|libgobject-*|libgmodule-*|libglib-*|libsqlite3.*) ;;
      libffi.*|libpcre2-8.*|libz.*|libc.*|libm.*|libdl.*|libpthread.*|ld-linux*) ;;
      *) tq_p=`$CC -print-file-name=$tq_n`
         AS_IF([test -f "$tq_p"], [tq_dyn="$tq_dyn -l:$tq_n"], [tq_ok=no]) ;;
      esac
    done
  done
  dnl -l:FILE (GNU ld): exact archive or soname, and libtool keeps the
  dnl order of -l flags (it moves paths and -Wl,-Bstatic around)
  tq_static=""
  for tq_l in $tq_archives; do tq_static="$tq_static -l:lib$tq_l.a"; done
  tq_static="$tq_static $tq_dyn -lm -ldl -pthread"
  tq_save_LIBS=$LIBS
  tq_save_CFLAGS=$CFLAGS
  LIBS="$tq_static $LIBS"
  CFLAGS="$CFLAGS $GMIME_CFLAGS $SQLITE_CFLAGS"
  AS_IF([test $tq_ok = yes],
    [AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <gmime/gmime.h>
#include <sqlite3.h>]], [[g_mime_init(); return sqlite3_libversion_number() == 0;]])],
      [], [tq_ok=no])])
  LIBS=$tq_save_LIBS
  CFLAGS=$tq_save_CFLAGS
  AC_MSG_RESULT([$tq_ok])
  AS_IF([test $tq_ok = yes], [TICKETQ_LIBS=$tq_static],
    [test "x$enable_static_ticketq" = xyes &&
      AC_MSG_ERROR([--enable-static-ticketq: the static archives do not link (see config.log)])])
])
AC_SUBST([TICKETQ_LIBS])
])
