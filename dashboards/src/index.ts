// dashboards: placeholder workspace; later issues fill it (see DESIGN.md).
export {};
