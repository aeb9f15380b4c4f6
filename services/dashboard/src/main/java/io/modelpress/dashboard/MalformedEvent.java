package io.modelpress.dashboard;

/** A record the dashboard cannot read: it is skipped and counted, with this one-line reason. */
public final class MalformedEvent extends Exception {

    public MalformedEvent(String reason) {
        super(reason);
    }
}
