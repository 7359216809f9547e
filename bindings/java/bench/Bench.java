package com.fanruan.fanlic.verifier.bench;

import com.fanruan.fanlic.verifier.Environment;
import com.fanruan.fanlic.verifier.Result;
import com.fanruan.fanlic.verifier.Verifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * Verification through the Java binding (Verifier.verify, over JNI) against the same verification in a
 * Rust loop (native/src/bench.rs, called once through JNI), side by side in one JVM, with warm-up. A timed
 * loop, not JMH (not packaged here). Run by bench/run.sh.
 *
 * <p>Usage: Bench FIXTURES_DIR [VERIFICATIONS_PER_ROUND] [ROUNDS]
 */
public final class Bench {
    private Bench() {}

    private static native long rustLoop(byte[][] roots, byte[] license, Environment env, int iterations);

    private static volatile boolean sink;

    static long javaLoop(Verifier v, byte[] license, Environment env, int n) {
        long start = System.nanoTime();
        boolean any = false;
        for (int i = 0; i < n; i++) {
            Result r = v.verify(license, env);
            any ^= r.valid();
        }
        long t = System.nanoTime() - start;
        sink = any;
        return t;
    }

    public static void main(String[] args) throws Exception {
        Path fixtures = Path.of(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 50;
        byte[] root = Files.readAllBytes(fixtures.resolve("keys/root-a.pub.raw"));
        byte[][] roots = {root};
        Verifier verifier = new Verifier(roots); // loads the native library, which also holds rustLoop

        Instant june = Instant.parse("2026-06-01T00:00:00Z");
        Object[][] cases = {
            {"valid", "vectors/valid-local-container.lic",
                new Environment("FineReport", "11.0", "webroot", 1, Environment.Method.LOCAL_CONTAINER, june, null)},
            // The manifest's all-causes vector: eight causes, signatures checked.
            {"all-causes", "vectors/all-causes.lic",
                new Environment("FineBI", "10.0", "other", 3, Environment.Method.PRIVATE_CLOUD, june,
                        Instant.parse("2026-07-01T00:00:00Z"))},
            // No signature to check: what is left is the cost of the call itself (JNI, copies, the answer).
            {"empty-file", "vectors/empty.lic",
                new Environment("FineReport", "11.0", "webroot", 1, Environment.Method.LOCAL_CONTAINER, june, null)},
        };
        System.out.printf("java %s, %s; rounds of %d verifications, %d rounds per side, interleaved%n",
                System.getProperty("java.vm.version"), System.getProperty("os.arch"), n, rounds);
        // The fastest round is the least disturbed by other processes; the median is shown too.
        System.out.printf("%-11s %12s %12s %7s   %12s %12s %7s%n", "case", "Java min", "Rust min", "ratio",
                "Java median", "Rust median", "ratio");
        double overhead = 0;
        java.util.List<Double> rustMins = new java.util.ArrayList<>();
        for (Object[] c : cases) {
            byte[] license = Files.readAllBytes(fixtures.resolve((String) c[1]));
            Environment env = (Environment) c[2];
            Result check = verifier.verify(license, env);
            boolean expectOne = c[0].equals("empty-file");
            if (c[0].equals("valid") != check.valid() || (check.causes().size() == 1) != expectOne) {
                throw new IllegalStateException(c[0] + ": unexpected " + check);
            }
            // Warm-up: JIT-compile the Java path, fault in the native code.
            for (int w = 0; w < 10; w++) {
                javaLoop(verifier, license, env, n);
                rustLoop(roots, license, env, n);
            }
            long[] java = new long[rounds];
            long[] rust = new long[rounds];
            for (int r = 0; r < rounds; r++) {
                // Interleaved, so that a noisy neighbour slows both alike.
                java[r] = javaLoop(verifier, license, env, n);
                rust[r] = rustLoop(roots, license, env, n);
            }
            double jMin = min(java) / (double) n;
            double rMin = min(rust) / (double) n;
            double j = median(java) / n;
            double rs = median(rust) / n;
            System.out.printf("%-11s %9.0f ns %9.0f ns %6.3fx   %9.0f ns %9.0f ns %6.3fx   (%s)%n", c[0], jMin, rMin,
                    jMin / rMin, j, rs, j / rs, check);
            if (expectOne) {
                overhead = jMin - rMin;
            } else {
                rustMins.add(rMin);
            }
        }
        derived(overhead, rustMins);
    }

    private static void derived(double overhead, java.util.List<Double> rustMins) {
        // On a machine shared with other work the side-by-side ratios above move by several per cent from run
        // to run; the binding's own cost per call, measured on a file refused at once, does not depend on it.
        System.out.printf("binding's own cost per call (empty-file: Java min - Rust min): %.0f ns%n", overhead);
        for (double r : rustMins) {
            System.out.printf("  = %.2f%% of a %.0f ns verification: ratio %.3fx%n", 100 * overhead / r, r,
                    (r + overhead) / r);
        }
    }

    static long min(long[] v) {
        long m = Long.MAX_VALUE;
        for (long x : v) {
            m = Math.min(m, x);
        }
        return m;
    }

    static double median(long[] v) {
        long[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }
}
