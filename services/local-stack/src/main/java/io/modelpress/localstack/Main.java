package io.modelpress.localstack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the local stack until Ctrl-C: {@code java -cp ... io.modelpress.localstack.Main [WORK_FOLDER]}.
 * Prints the settings a service needs as {@code NAME=value} lines.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        Path work = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("modelpress-local-stack-");
        LocalStack stack = LocalStack.start(work);
        new TreeMap<>(stack.environment()).forEach((name, value) -> System.out.println(name + "=" + value));
        System.out.println("# work folder " + work + "; Ctrl-C stops both servers");
        System.out.flush();
        new CountDownLatch(1).await(); // the shutdown hook stops the servers
    }
}
