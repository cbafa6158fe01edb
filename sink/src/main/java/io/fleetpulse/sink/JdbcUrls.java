package io.fleetpulse.sink;

import java.util.regex.Pattern;

/** JDBC URLs as they may be shown: a password written into the URL itself is masked. */
final class JdbcUrls {

    private static final Pattern PASSWORD = Pattern.compile("(?i)(password=)[^&;]*");
    private static final Pattern USER_INFO = Pattern.compile("(//[^:/@]+:)[^@/]*@");

    private JdbcUrls() {
    }

    static String masked(String url) {
        if (url == null) {
            return null;
        }
        return USER_INFO.matcher(PASSWORD.matcher(url).replaceAll("$1****")).replaceAll("$1****@");
    }
}
