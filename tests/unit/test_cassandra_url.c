/* test_cassandra_url.c - the Cassandra store's URL (sink/cassandra_url.h),
 * parsed through curl_url as the ClickHouse URL is: credentials with
 * percent escapes, IPv6 contact points, the default port and keyspace,
 * parameters, and bad URLs refused with a clear error that never holds the
 * password. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/err.h"
#include "sink/cassandra_url.h"
#include "sink/sink.h"

#include <stdio.h>
#include <string.h>

static tp_cass_url g_u;

static void ok(const char *url, const char *where, const char *ks, const char *user, const char *pw) {
    char err[512] = "";
    if (tp_cassandra_parse_url(url, &g_u, err, sizeof err)) fail_msg("%s: %s", url, err);
    if (strcmp(g_u.where, where)) fail_msg("%s: where '%s', want '%s'", url, g_u.where, where);
    assert_string_equal(g_u.ks, ks);
    assert_string_equal(g_u.user, user);
    assert_string_equal(g_u.password, pw);
    /* the usage check at start agrees */
    assert_int_equal(tp_sink_check_url(url, err, sizeof err), 0);
}

static void bad(const char *url, const char *text) {
    char err[512] = "";
    assert_int_equal(tp_cassandra_parse_url(url, &g_u, err, sizeof err), TP_EINVAL);
    if (!strstr(err, text)) fail_msg("%s: error '%s' lacks '%s'", url, err, text);
    if (strstr(err, "s3cret") || strstr(err, "s3cr"))
        fail_msg("%s: the password is in the error '%s'", url, err);
    assert_int_equal(g_u.password[0], 0); /* not kept after a failure */
    assert_int_equal(tp_sink_check_url(url, err, sizeof err), TP_EINVAL);
}

static void test_good(void **state) {
    (void)state;
    ok("cassandra://h", "h:9042", "market", "", "");
    assert_int_equal(g_u.nhosts, 1);
    assert_string_equal(g_u.hosts[0].name, "h");
    assert_int_equal(g_u.hosts[0].port, 9042);
    assert_false(g_u.credentials);
    assert_int_equal(g_u.consistency, TP_CQL_LOCAL_QUORUM);
    assert_string_equal(g_u.replication, "{'class': 'SimpleStrategy', 'replication_factor': 1}");
    assert_false(g_u.tls);
    ok("cassandra://h:9043/Ticks_2", "h:9043", "ticks_2", "", "");
    ok("cassandra://h/", "h:9042", "market", "", "");
    /* credentials, percent-decoded once, by curl */
    ok("cassandra://bob:p%40ss%3Aw%2F%3F%25@h/ks", "h:9042", "ks", "bob", "p@ss:w/?%");
    assert_true(g_u.credentials);
    ok("cassandra://b%40b@h/ks", "h:9042", "ks", "b@b", "");
    assert_true(g_u.credentials);
    ok("cassandra://u:a+b@h/ks", "h:9042", "ks", "u", "a+b");
    /* IPv6 contact points: the address without brackets, port or not */
    ok("cassandra://u:pw@[::1]:9050,[fe80::1],10.0.0.5:9000,db.example/ks",
       "[::1]:9050,[fe80::1]:9042,10.0.0.5:9000,db.example:9042", "ks", "u", "pw");
    assert_int_equal(g_u.nhosts, 4);
    assert_string_equal(g_u.hosts[0].name, "::1");
    assert_int_equal(g_u.hosts[0].port, 9050);
    assert_string_equal(g_u.hosts[1].name, "fe80::1");
    assert_string_equal(g_u.hosts[2].name, "10.0.0.5");
    assert_int_equal(g_u.hosts[3].port, 9042);
    /* parameters; values percent-decoded by the same decoder as ClickHouse's */
    ok("cassandra://h/ks?consistency=ONE&replication=dc1:3,dc2:2"
       "&user=a%26b&password=x%3Dy%2B&cafile=%2Ftmp%2Fca.pem",
       "h:9042", "ks", "a&b", "x=y+");
    assert_int_equal(g_u.consistency, TP_CQL_ONE);
    assert_string_equal(g_u.replication, "{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}");
    assert_string_equal(g_u.ca_file, "/tmp/ca.pem");
    assert_true(g_u.tls);
    assert_true(g_u.credentials);
    ok("cassandra://h/ks?&replication=3&tls=0&", "h:9042", "ks", "", "");
    assert_string_equal(g_u.replication, "{'class': 'SimpleStrategy', 'replication_factor': 3}");
}

static void test_bad(void **state) {
    (void)state;
    bad("cassandra:/h/ks", "Cassandra store URL");
    bad("cassandra://", "no host");
    bad("cassandra:///ks", "no host");
    bad("cassandra://u:s3cret@/ks", "no host");
    bad("cassandra://h1,,h2/ks", "no host");
    bad("cassandra://u:s3cret@h:99999/ks", "port 1-65535");
    bad("cassandra://u:s3cret@h:0/ks", "port 1-65535");
    bad("cassandra://u:s3cret@h:90x/ks", "Cassandra store URL: bad");
    bad("cassandra://u:s3cret@[::1:9042/ks", "Cassandra store URL: bad host");
    bad("cassandra://u:s3cret@[::1]x/ks", "Cassandra store URL: bad");
    bad("cassandra://u:s3cret%zz@h/ks", "does not start a %XX escape");
    bad("cassandra://u:s3cr%@h/ks", "does not start a %XX escape"); /* a lone % */
    bad("cassandra://u:s3cret%0A@h/ks", "the password");            /* a control character */
    bad("cassandra://u:s3cr/et@h/ks", "Cassandra store URL");
    bad("cassandra://u:s3cr@et@h/ks", "more than one '@'");
    bad("cassandra://u:s3cret@h/ks#frag", "'#'");
    bad("cassandra://h/bad-name", "not a valid CQL name");
    bad("cassandra://h/a/b", "not a valid CQL name");
    bad("cassandra://h/1ks", "not a valid CQL name");
    bad("cassandra://h/a%20b", "not a valid CQL name");
    bad("cassandra://h/ks?colour=red", "unknown URL parameter 'colour'");
    bad("cassandra://h/ks?password%3Ds3cret", "unknown URL parameter");
    bad("cassandra://h/ks?password=s3cr%00et", "holds %00");
    bad("cassandra://h/ks?consistency=ANY", "consistency=ANY");
    bad("cassandra://h/ks?replication=0", "a factor from 1 to 99");
    bad("cassandra://h/ks?tls=yes", "tls=yes");
    bad("cassandra://h1,h2,h3,h4,h5,h6,h7,h8,h9/ks", "at most 8 contact points");
    char longhost[400] = "cassandra://";
    memset(longhost + strlen(longhost), 'a', 300);
    strcat(longhost, "/ks");
    bad(longhost, "too long");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
