package io.modelpress.compressor;

import java.util.Locale;

/** Where the work on a registered model failed; the failure event names it. */
public enum Stage {
    RECEIVE, VALIDATE, DOWNLOAD, VERIFY, LOAD, PLAN, COMPRESS, STORE, INTERNAL;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
