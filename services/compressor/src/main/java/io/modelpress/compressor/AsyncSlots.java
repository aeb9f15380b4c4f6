package io.modelpress.compressor;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;

/** A semaphore whose waiters are futures, so the messaging thread that asks for a slot never blocks. */
final class AsyncSlots {

    private final Deque<CompletableFuture<Void>> waiting = new ArrayDeque<>();
    private int free;
    private boolean closed;

    AsyncSlots(int slots) {
        if (slots < 1) {
            throw new IllegalArgumentException("at least one slot is needed, not " + slots);
        }
        this.free = slots;
    }

    /** Completes when a slot is taken; never completes once closed. */
    synchronized CompletableFuture<Void> acquire() {
        if (closed) {
            return new CompletableFuture<>();
        }
        if (free > 0) {
            free--;
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> waiter = new CompletableFuture<>();
        waiting.add(waiter);
        return waiter;
    }

    void release() {
        CompletableFuture<Void> next;
        synchronized (this) {
            next = closed ? null : waiting.poll();
            if (next == null) {
                free++;
            }
        }
        if (next != null) {
            next.complete(null);
        }
    }

    /** No slot is handed out any more: a stopping service takes no new work. */
    synchronized void close() {
        closed = true;
        waiting.clear();
    }
}
