package dev.jkvm.vmm.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/** The target description parses, names x86-64, and lists the registers in the g packet's order. */
class TargetDescriptionTest {

    private static Document parse() throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setValidating(false);
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        DocumentBuilder b = f.newDocumentBuilder();
        b.setEntityResolver((publicId, systemId) -> new InputSource(new StringReader("")));
        return b.parse(new ByteArrayInputStream(TargetDescription.xml().getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void namesTheArchitectureAndTheFeaturesGdbRequires() throws Exception {
        Document d = parse();
        assertEquals("target", d.getDocumentElement().getTagName());
        assertEquals("i386:x86-64", d.getElementsByTagName("architecture").item(0).getTextContent());
        List<String> features = new ArrayList<>();
        NodeList fs = d.getElementsByTagName("feature");
        for (int i = 0; i < fs.getLength(); i++) {
            features.add(((Element) fs.item(i)).getAttribute("name"));
        }
        assertEquals(List.of("org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments",
                "org.jkvm.gdb.i386.sys"), features);
    }

    @Test
    void registersFollowTheGPacketLayout() throws Exception {
        NodeList regs = parse().getElementsByTagName("reg");
        List<RegisterLayout.Register> layout = RegisterLayout.registers();
        assertEquals(layout.size(), regs.getLength());
        int bits = 0;
        for (int i = 0; i < regs.getLength(); i++) {
            Element r = (Element) regs.item(i);
            assertEquals(layout.get(i).name(), r.getAttribute("name"));
            assertEquals(String.valueOf(i), r.getAttribute("regnum"));
            assertEquals(layout.get(i).bits(), Integer.parseInt(r.getAttribute("bitsize")));
            bits += Integer.parseInt(r.getAttribute("bitsize"));
        }
        assertEquals(RegisterLayout.G_BYTES * 8, bits);
        Element eflags = (Element) regs.item(17);
        assertEquals("eflags", eflags.getAttribute("name"));
        assertEquals("i386_eflags", eflags.getAttribute("type"));
        assertEquals("st0", ((Element) regs.item(24)).getAttribute("name"));
        assertEquals("i387_ext", ((Element) regs.item(24)).getAttribute("type"));
        assertEquals("xmm0", ((Element) regs.item(40)).getAttribute("name"));
        assertEquals("vec128", ((Element) regs.item(40)).getAttribute("type"));
        assertEquals("efer", ((Element) regs.item(regs.getLength() - 1)).getAttribute("name"));
    }

    @Test
    void declaresEveryTypeItUses() throws Exception {
        Document d = parse();
        List<String> declared = new ArrayList<>(List.of("int", "int32", "int64", "data_ptr", "code_ptr", "i387_ext"));
        for (String tag : List.of("flags", "vector", "union")) {
            NodeList n = d.getElementsByTagName(tag);
            for (int i = 0; i < n.getLength(); i++) {
                declared.add(((Element) n.item(i)).getAttribute("id"));
            }
        }
        NodeList regs = d.getElementsByTagName("reg");
        for (int i = 0; i < regs.getLength(); i++) {
            String type = ((Element) regs.item(i)).getAttribute("type");
            assertEquals(true, declared.contains(type), "type " + type + " is declared or built in");
        }
    }
}
