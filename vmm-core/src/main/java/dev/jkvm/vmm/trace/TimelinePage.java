package dev.jkvm.vmm.trace;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The self-contained timeline page of {@code -exit-trace FILE.html}: {@code timeline.html} (HTML,
 * CSS and a canvas renderer in plain JavaScript, nothing fetched from the network), with the trace's
 * JSON in a {@code <script type="application/json">} element where the page has its placeholder.
 */
final class TimelinePage {

    /** Where the data goes in the page. */
    static final String PLACEHOLDER = "<!--TRACE-DATA-->";

    private TimelinePage() {
    }

    /** The page before the data (ending in the data element's start tag) and after it. */
    static String[] frame() {
        String page;
        try (InputStream in = TimelinePage.class.getResourceAsStream("timeline.html")) {
            if (in == null) {
                throw new IllegalStateException("timeline.html is missing from the jkvm build");
            }
            page = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int at = page.indexOf(PLACEHOLDER);
        if (at < 0) {
            throw new IllegalStateException("timeline.html has no " + PLACEHOLDER);
        }
        return new String[] {page.substring(0, at) + "<script id=\"trace-data\" type=\"application/json\">",
                "</script>" + page.substring(at + PLACEHOLDER.length())};
    }
}
