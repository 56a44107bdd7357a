package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PostCodePortTest {

    @Test
    void remembersTheLastCodeAndReadsAllOnes() {
        PostCodePort post = new PostCodePort();
        assertEquals(-1, post.lastCode());
        assertEquals("post: no code", post.describe());
        post.write(0, 1, 0x12);
        post.write(0, 1, 0xab);
        assertEquals(0xab, post.lastCode());
        assertEquals(2, post.writes());
        assertEquals(0xff, post.read(0, 1) & 0xff);
        assertEquals("post: last=ab writes=2", post.describe());
    }
}
