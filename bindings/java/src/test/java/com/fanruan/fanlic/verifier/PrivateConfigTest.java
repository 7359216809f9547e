package com.fanruan.fanlic.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** {@code privateConfig} (SPEC.md §7.4) through Java: every vector, bad input. */
class PrivateConfigTest {
    @Test
    void everyConfigVectorGivesItsOutcome() {
        List<Map<String, Object>> vectors = PrivateCloudVectors.named("config-");
        assertTrue(vectors.size() >= 10, "vectors: " + vectors.size());
        for (Map<String, Object> v : vectors) {
            String name = (String) v.get("name");
            Map<String, Object> in = Json.object(v.get("config"));
            Map<String, Object> e = Json.object(v.get("expected"));
            byte[] licenseId = Fixtures.hex((String) in.get("license_id"));
            PrivateConfigResult r = PrivateConfig.verify(
                    PrivateCloudVectors.file(v), Fixtures.hex((String) in.get("image_public_key")), licenseId);
            assertEquals(e.get("valid"), r.valid(), name + ": " + r);
            if (r.valid()) {
                Map<String, Object> c = Json.object(e.get("config"));
                assertEquals(c.get("generation"), r.generation(), name);
                assertEquals(c.get("log_head"), Fixtures.hex(r.logHead()), name);
                assertEquals(
                        Json.array(c.get("nodes")),
                        r.nodes().stream().map(n -> Fixtures.hex(n.nodeId())).collect(Collectors.toList()),
                        name);
                assertEquals(Fixtures.hex(licenseId), Fixtures.hex(r.licenseId()), name);
                assertEquals(32, r.instancePublicKey().length, name);
                assertTrue(r.events() > 0, name);
                assertNull(r.cause(), name);
            } else {
                assertEquals(PrivateCloudVectors.causes(v), List.of(r.cause().code()), name + ": " + r);
                assertFalse(r.message().isEmpty(), name);
                assertTrue(r.nodes().isEmpty(), name);
            }
        }
    }

    @Test
    void badInputIsRefusedOrADefinedException() {
        Map<String, Object> in = Json.object(Fixtures.json("vectors/private-cloud/config-valid.json").get("config"));
        byte[] image = Fixtures.hex((String) in.get("image_public_key"));
        byte[] id = Fixtures.hex((String) in.get("license_id"));
        byte[] file = Fixtures.read("vectors/private-cloud/config-valid.bin");
        assertThrows(NullPointerException.class, () -> PrivateConfig.verify(null, image, id));
        assertThrows(NullPointerException.class, () -> PrivateConfig.verify(file, null, id));
        assertThrows(NullPointerException.class, () -> PrivateConfig.verify(file, image, null));
        assertThrows(IllegalArgumentException.class, () -> PrivateConfig.verify(file, new byte[31], id));
        assertThrows(IllegalArgumentException.class, () -> PrivateConfig.verify(file, image, new byte[17]));
        for (int len = 0; len < file.length; len += Math.max(1, file.length / 20)) {
            assertFalse(PrivateConfig.verify(Arrays.copyOf(file, len), image, id).valid(), "truncated to " + len);
        }
        for (int i = 0; i < file.length; i += Math.max(1, file.length / 30)) {
            byte[] m = file.clone();
            m[i] ^= 0x44;
            assertFalse(PrivateConfig.verify(m, image, id).valid(), "byte " + i);
        }
        assertEquals(PrivateConfigCause.FOREIGN_LICENSE, PrivateConfigCause.ofCode("foreign_license"));
        assertThrows(IllegalArgumentException.class, () -> PrivateConfigCause.ofCode("nope"));
    }
}
