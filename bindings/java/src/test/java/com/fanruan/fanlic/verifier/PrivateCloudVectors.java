package com.fanruan.fanlic.verifier;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Test helpers: the vectors of fixtures/vectors/private-cloud by their check. */
final class PrivateCloudVectors {
    private PrivateCloudVectors() {}

    /** Every vector whose file name starts with {@code prefix}, its name under "name". */
    static List<Map<String, Object>> named(String prefix) {
        try (Stream<Path> files = Files.list(Fixtures.dir().resolve("vectors/private-cloud"))) {
            List<Map<String, Object>> out = new ArrayList<>();
            for (Path p : files.filter(f -> {
                        String n = f.getFileName().toString();
                        return n.startsWith(prefix) && n.endsWith(".json");
                    })
                    .sorted()
                    .collect(Collectors.toList())) {
                Map<String, Object> v = Fixtures.json("vectors/private-cloud/" + p.getFileName());
                v.put("name", p.getFileName().toString());
                out.add(v);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The vector's file. */
    static byte[] file(Map<String, Object> v) {
        return Fixtures.read("vectors/private-cloud/" + v.get("file"));
    }

    /** Root keys by their names. */
    static List<byte[]> roots(Object names) {
        return Json.array(names).stream().map(n -> Fixtures.publicKey((String) n)).collect(Collectors.toList());
    }

    /** The expected causes' codes. */
    static List<Object> causes(Map<String, Object> v) {
        return Json.array(Json.object(v.get("expected")).get("causes"));
    }

    static byte[] hexOrNull(Object h) {
        return h == null ? null : Fixtures.hex((String) h);
    }
}
