//! The shop's catalogue: eight products, each with a picture drawn as inline SVG.
//!
//! Product ids are the page names the session-intelligence service records, so they are
//! kept short, lower case and free of the characters the request bus reserves.

/// One product.
pub struct Product {
    /// The id in URLs (`/product/<id>`) and the page name of its pageviews.
    pub id: &'static str,
    pub name: &'static str,
    /// Price in pence.
    pub price: u32,
    /// One line for the grid.
    pub tagline: &'static str,
    /// A short paragraph for the product page.
    pub description: &'static str,
    /// The backdrop colour of its picture.
    pub tint: &'static str,
    /// The drawing, SVG elements in a 160 x 120 view box.
    art: &'static str,
}

impl Product {
    /// The picture as an inline `<svg>` of class `pic` (the catalogue's own static text, so
    /// nothing in it needs escaping).
    pub fn picture(&self, class: &str) -> String {
        format!(
            "<svg class=\"pic {class}\" viewBox=\"0 0 160 120\" role=\"img\" \
             aria-label=\"{name}\" xmlns=\"http://www.w3.org/2000/svg\">\
             <rect width=\"160\" height=\"120\" fill=\"{tint}\"/>{art}</svg>",
            name = self.name,
            tint = self.tint,
            art = self.art
        )
    }

    /// The price as shown, `£1,249.00`.
    pub fn price_text(&self) -> String {
        money(u64::from(self.price))
    }
}

/// Pence as pounds with thousands separators.
pub fn money(pence: u64) -> String {
    let pounds = (pence / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in pounds.chars().enumerate() {
        if i > 0 && (pounds.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("£{grouped}.{:02}", pence % 100)
}

/// The product with id `id`.
pub fn product(id: &str) -> Option<&'static Product> {
    CATALOGUE.iter().find(|p| p.id == id)
}

/// Every product, in the order of the home page's grid.
pub static CATALOGUE: [Product; 8] = [
    Product {
        id: "tv",
        name: "Aurora 55\u{2033} 4K TV",
        price: 64900,
        tagline: "Deep blacks, bright rooms",
        description: "A 55-inch 4K panel with local dimming and a thin bezel, tuned to look \
                      right in a sunny living room as well as a dark one. Four HDMI inputs, \
                      one of them with eARC for a sound system.",
        tint: "#e6edf8",
        art: "<ellipse cx=\"80\" cy=\"104\" rx=\"36\" ry=\"3\" fill=\"#c5d0e3\"/>\
              <rect x=\"22\" y=\"18\" width=\"116\" height=\"70\" rx=\"4\" fill=\"#1e2533\"/>\
              <rect x=\"27\" y=\"23\" width=\"106\" height=\"60\" rx=\"2\" fill=\"#2f6fde\"/>\
              <path d=\"M27 83 L70 23 L98 23 L55 83 Z\" fill=\"#fff\" opacity=\".12\"/>\
              <path d=\"M27 66 C55 52 90 74 133 50 L133 83 L27 83 Z\" fill=\"#1d4fae\" opacity=\".7\"/>\
              <rect x=\"72\" y=\"88\" width=\"16\" height=\"10\" fill=\"#3a4458\"/>\
              <rect x=\"54\" y=\"97\" width=\"52\" height=\"5\" rx=\"2.5\" fill=\"#2a3242\"/>",
    },
    Product {
        id: "tv-mount",
        name: "Tilt wall mount",
        price: 4900,
        tagline: "For 40\u{2033} to 70\u{2033} screens",
        description: "A steel wall bracket that tilts 12 degrees and sits 5 cm from the wall. \
                      Fits VESA 200 to 600 and carries 45 kg; the bolts and a spirit level \
                      are in the box.",
        tint: "#eceff3",
        art: "<rect x=\"30\" y=\"22\" width=\"34\" height=\"76\" rx=\"4\" fill=\"#5b6472\"/>\
              <circle cx=\"47\" cy=\"32\" r=\"3\" fill=\"#c9ced6\"/>\
              <circle cx=\"47\" cy=\"88\" r=\"3\" fill=\"#c9ced6\"/>\
              <path d=\"M64 44 L92 60 L64 76\" fill=\"none\" stroke=\"#8a93a1\" stroke-width=\"7\" \
               stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\
              <rect x=\"92\" y=\"26\" width=\"14\" height=\"68\" rx=\"3\" fill=\"#3d4450\"/>\
              <rect x=\"106\" y=\"34\" width=\"22\" height=\"6\" rx=\"2\" fill=\"#3d4450\"/>\
              <rect x=\"106\" y=\"80\" width=\"22\" height=\"6\" rx=\"2\" fill=\"#3d4450\"/>\
              <circle cx=\"92\" cy=\"60\" r=\"5\" fill=\"#c9ced6\"/>",
    },
    Product {
        id: "headphones",
        name: "Studio headphones",
        price: 17900,
        tagline: "Closed-back, all-day comfort",
        description: "Closed-back over-ear headphones with 40 mm drivers, memory-foam cushions \
                      and a detachable cable. Thirty hours of battery when wireless, none \
                      needed when wired.",
        tint: "#fbeaea",
        art: "<path d=\"M42 72 V62 A38 38 0 0 1 118 62 V72\" fill=\"none\" stroke=\"#262a33\" \
               stroke-width=\"7\" stroke-linecap=\"round\"/>\
              <rect x=\"30\" y=\"60\" width=\"24\" height=\"40\" rx=\"10\" fill=\"#d94848\"/>\
              <rect x=\"106\" y=\"60\" width=\"24\" height=\"40\" rx=\"10\" fill=\"#d94848\"/>\
              <rect x=\"48\" y=\"64\" width=\"9\" height=\"32\" rx=\"4\" fill=\"#262a33\"/>\
              <rect x=\"103\" y=\"64\" width=\"9\" height=\"32\" rx=\"4\" fill=\"#262a33\"/>\
              <path d=\"M35 66 Q36 62 40 62\" stroke=\"#fff\" stroke-width=\"2\" fill=\"none\" \
               opacity=\".5\"/>",
    },
    Product {
        id: "speaker",
        name: "Walnut bookshelf speaker",
        price: 22900,
        tagline: "Room-filling, shelf-sized",
        description: "A two-way speaker in a real walnut cabinet: a silk-dome tweeter over a \
                      13 cm woofer, with Bluetooth and an optical input. Pairs with a second \
                      one for stereo.",
        tint: "#f5ede3",
        art: "<rect x=\"52\" y=\"12\" width=\"56\" height=\"96\" rx=\"6\" fill=\"#8a5a33\"/>\
              <rect x=\"56\" y=\"16\" width=\"48\" height=\"88\" rx=\"4\" fill=\"#9c6a3f\"/>\
              <circle cx=\"80\" cy=\"38\" r=\"10\" fill=\"#23262d\"/>\
              <circle cx=\"80\" cy=\"38\" r=\"4\" fill=\"#5d626d\"/>\
              <circle cx=\"80\" cy=\"76\" r=\"21\" fill=\"#23262d\"/>\
              <circle cx=\"80\" cy=\"76\" r=\"12\" fill=\"#3b3f48\"/>\
              <circle cx=\"80\" cy=\"76\" r=\"5\" fill=\"#5d626d\"/>",
    },
    Product {
        id: "lamp",
        name: "Brass desk lamp",
        price: 8900,
        tagline: "Warm light, adjustable arm",
        description: "A brushed-brass desk lamp with a two-joint arm and a weighted base. The \
                      shade stays cool to the touch; the dimmer is in the switch.",
        tint: "#fbf4df",
        art: "<ellipse cx=\"58\" cy=\"104\" rx=\"24\" ry=\"5\" fill=\"#b98b2e\"/>\
              <path d=\"M58 102 L50 62 L96 42\" fill=\"none\" stroke=\"#c9a04a\" stroke-width=\"4\" \
               stroke-linecap=\"round\" stroke-linejoin=\"round\"/>\
              <circle cx=\"50\" cy=\"62\" r=\"4\" fill=\"#8f6a1f\"/>\
              <path d=\"M108 66 L84 42 L78 96 L132 96 Z\" fill=\"#ffe9a8\" opacity=\".55\"/>\
              <path d=\"M88 30 L120 44 L108 66 L84 42 Z\" fill=\"#2f5d50\"/>\
              <circle cx=\"96\" cy=\"42\" r=\"4\" fill=\"#8f6a1f\"/>",
    },
    Product {
        id: "chair",
        name: "Oak lounge chair",
        price: 34900,
        tagline: "Solid oak, wool cushions",
        description: "A low lounge chair in solid oak with removable wool cushions in deep \
                      teal. Assembled in minutes with one Allen key; the cushions go in the \
                      washing machine.",
        tint: "#e5f2ef",
        art: "<path d=\"M46 104 L54 78 M114 104 L106 78 M56 78 L42 40\" stroke=\"#b07a3c\" \
               stroke-width=\"6\" stroke-linecap=\"round\"/>\
              <path d=\"M48 36 Q60 30 66 42 L76 70 L52 72 Z\" fill=\"#1f7a6c\"/>\
              <rect x=\"50\" y=\"66\" width=\"64\" height=\"14\" rx=\"6\" fill=\"#229382\"/>\
              <rect x=\"48\" y=\"78\" width=\"68\" height=\"5\" rx=\"2\" fill=\"#b07a3c\"/>",
    },
    Product {
        id: "kettle",
        name: "Gooseneck kettle",
        price: 6900,
        tagline: "Pour-over precision",
        description: "A 1 litre electric kettle with a slim gooseneck spout for slow, even \
                      pours and a dial that holds the water anywhere from 40 to 100 \u{b0}C.",
        tint: "#e9f1e7",
        art: "<rect x=\"44\" y=\"98\" width=\"72\" height=\"8\" rx=\"3\" fill=\"#2e3a33\"/>\
              <path d=\"M52 98 L58 48 Q59 42 66 42 L94 42 Q101 42 102 48 L108 98 Z\" fill=\"#7fa487\"/>\
              <path d=\"M54 80 C40 78 34 60 22 40\" fill=\"none\" stroke=\"#7fa487\" stroke-width=\"5\" \
               stroke-linecap=\"round\"/>\
              <path d=\"M104 52 C126 52 126 86 106 86\" fill=\"none\" stroke=\"#2e3a33\" \
               stroke-width=\"7\" stroke-linecap=\"round\"/>\
              <rect x=\"62\" y=\"36\" width=\"36\" height=\"7\" rx=\"3\" fill=\"#2e3a33\"/>\
              <circle cx=\"80\" cy=\"33\" r=\"4\" fill=\"#2e3a33\"/>\
              <path d=\"M63 52 L60 88\" stroke=\"#fff\" stroke-width=\"3\" opacity=\".35\" \
               stroke-linecap=\"round\"/>",
    },
    Product {
        id: "camera",
        name: "Rangefinder camera",
        price: 89900,
        tagline: "Full frame, pocket sized",
        description: "A 24-megapixel full-frame camera in the shape of a classic rangefinder, \
                      with a 35 mm f/2 lens, an optical viewfinder and dials for everything \
                      that matters.",
        tint: "#efe9f6",
        art: "<rect x=\"38\" y=\"26\" width=\"22\" height=\"10\" rx=\"2\" fill=\"#2a2d35\"/>\
              <rect x=\"104\" y=\"28\" width=\"12\" height=\"8\" rx=\"2\" fill=\"#9aa1ad\"/>\
              <rect x=\"26\" y=\"34\" width=\"108\" height=\"62\" rx=\"8\" fill=\"#2a2d35\"/>\
              <rect x=\"26\" y=\"34\" width=\"108\" height=\"18\" rx=\"8\" fill=\"#cfd3da\"/>\
              <rect x=\"26\" y=\"44\" width=\"108\" height=\"8\" fill=\"#cfd3da\"/>\
              <rect x=\"36\" y=\"38\" width=\"16\" height=\"10\" rx=\"2\" fill=\"#5b6b86\"/>\
              <circle cx=\"80\" cy=\"70\" r=\"23\" fill=\"#cfd3da\"/>\
              <circle cx=\"80\" cy=\"70\" r=\"18\" fill=\"#1b1d22\"/>\
              <circle cx=\"80\" cy=\"70\" r=\"9\" fill=\"#3f5f8f\"/>\
              <circle cx=\"76\" cy=\"66\" r=\"3\" fill=\"#fff\" opacity=\".6\"/>",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_plain() {
        for (i, p) in CATALOGUE.iter().enumerate() {
            assert!(p
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            assert!(CATALOGUE[..i].iter().all(|q| q.id != p.id));
        }
        assert_eq!(money(64900), "£649.00");
        assert_eq!(money(123456789), "£1,234,567.89");
    }
}
